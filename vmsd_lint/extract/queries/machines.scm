; Files that define machine types or compat properties (extract/machines.py), and the
; text of a machine-defining macro once expanded (`DEFINE_Q35_MACHINE(7, 2)`).
; Functions: name and body.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
  ]
  body: (compound_statement) @body) @function
; Direct calls with their arguments (`compat_props_add(m->compat_props, hw_compat_7_2,
; hw_compat_7_2_len)`, `pc_q35_machine_8_0_options(m)`).
(call_expression function: (identifier) @callee arguments: (argument_list) @args) @call
; GlobalProperty arrays (at file level, or `static GlobalProperty compat[]` in an options
; function) and TypeInfo variables, with their initializer.
(declaration
  type: (type_identifier) @decl_type
  (#match? @decl_type "^(GlobalProperty|TypeInfo)$")
  declarator: (init_declarator
    declarator: (_) @declarator
    value: (initializer_list) @value)) @decl
; A macro called at file level: its expansion may declare a machine type.
(translation_unit (expression_statement (call_expression function: (identifier) @macro_name)) @macro_call)
(preproc_ifdef (expression_statement (call_expression function: (identifier) @macro_name)) @macro_call)
(preproc_if (expression_statement (call_expression function: (identifier) @macro_name)) @macro_call)
