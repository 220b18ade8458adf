"""The applications of the pipeline: a check of OLD..NEW, the walk of a sequence of trees
(commits, patches) with one attribution policy, waivers."""
