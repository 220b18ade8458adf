; Inside a function body: assignments to a `vmsd` member, hooks (`dc->realize = f;`),
; and direct calls.
(assignment_expression
  left: (field_expression field: (field_identifier) @member (#eq? @member "vmsd"))
  right: (_) @rhs) @assign
(assignment_expression
  left: (field_expression field: (field_identifier) @hook_member)
  right: (identifier) @hook_target) @hook
(call_expression
  function: (identifier) @callee) @call
