; Inside a function body: assignments to a `vmsd` member, and direct calls.
(assignment_expression
  left: (field_expression field: (field_identifier) @member (#eq? @member "vmsd"))
  right: (_) @rhs) @assign
(call_expression
  function: (identifier) @callee
  arguments: (argument_list) @args) @call
