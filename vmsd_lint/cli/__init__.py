"""The command line: options parsed once, a command per module, a formatter per format."""
