; Inside a function body: assignments to a `vmsd` member, hooks (`dc->realize = f;`),
; other members a class is given (`cc->sysemu_ops = &ops;`, `k->flag = true;`),
; direct calls, and the class
; pointers a function declares (`VirtioDeviceClass *vdc = ...;`), which type its
; assignments; and what a load function checks of the version it is given
; (`if (version_id != 4)`); a VMSD copied at run time (`s->vmstate =
; g_memdup(&vmstate_eepro100, ...)`) and named at run time (`s->vmstate->name = ...`).
(assignment_expression
  left: (field_expression field: (field_identifier) @member (#eq? @member "vmsd"))
  right: (_) @rhs) @assign
(assignment_expression
  left: (field_expression argument: (_) @hook_object field: (field_identifier) @hook_member)
  right: (identifier) @hook_target) @hook
(assignment_expression
  left: (field_expression argument: (identifier) @set_object field: (field_identifier) @set_member)
  right: [(pointer_expression argument: (identifier)) (true) (false)] @set_value) @set
(call_expression
  function: (identifier) @callee) @call
(declaration
  type: (type_identifier) @class_type (#match? @class_type "Class$")
  declarator: [(init_declarator declarator: (pointer_declarator declarator: (identifier) @class_var))
               (pointer_declarator declarator: (identifier) @class_var)]) @class_decl
(binary_expression
  left: (identifier) @check_left (#eq? @check_left "version_id")
  right: (_) @check_value) @version_check
(assignment_expression
  left: (_) @copy_lhs
  right: (call_expression function: (identifier) @copy_fn (#match? @copy_fn "^g_memdup")
                          arguments: (argument_list . (pointer_expression argument: (identifier) @copy_of)))) @copy
(assignment_expression
  left: (field_expression argument: (field_expression) @rename_object field: (field_identifier) @rename_member
                          (#eq? @rename_member "name"))
  right: (_) @rename_value) @rename
