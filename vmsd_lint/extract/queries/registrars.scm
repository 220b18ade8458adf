; What C code that registers QOM types from data reads (extract/registrars.py): run only
; on the files whose functions call type_register*() on something other than a
; top-level TypeInfo, or pass an array element `&arr[i]` to a function.
; Functions: name, parameters, body.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name parameters: (parameter_list) @params)
    (pointer_declarator
      declarator: (function_declarator declarator: (identifier) @name parameters: (parameter_list) @params))
  ]
  body: (compound_statement) @body) @function
; Declarations with an initializer, at file level (descriptor arrays) or in a body
; (`TypeInfo ti = {...}`, `const E1000Info *info = &e1000_devices[i];`).
(declaration
  type: (_) @decl_type
  declarator: (init_declarator declarator: (_) @var value: (_) @init)) @declaration
; In bodies: assignments (`ti.name = info->name;`), calls, returns, for loops.
(assignment_expression left: (_) @lhs right: (_) @rhs) @assign
(call_expression function: (identifier) @callee arguments: (argument_list) @args) @call
(return_statement (_) @value) @return
(for_statement) @for
(if_statement condition: (_) @if_test consequence: (_) @if_body) @if
