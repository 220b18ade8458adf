; Rust sources (rust/hw/**, rust/qemu-api/src): the module-level items that say what a
; Rust device migrates and which QOM type it is.  Only direct children of the file are
; matched: items of an inline `mod tests { ... }` are test code.
;
; Statics and consts: VMStateDescriptions, type names (`c_str!("pl011")`), array lengths.
(source_file
  (static_item name: (identifier) @name type: (_) @type value: (_) @value) @item)
(source_file
  (const_item name: (identifier) @name type: (_) @type value: (_) @value) @item)
; The members of a struct-expression initializer (`VMStateDescription { name: ..., ... }`).
(source_file
  (static_item
    value: (struct_expression
      body: (field_initializer_list
        (field_initializer field: (field_identifier) @member value: (_) @member_value)))) @init_item)
(source_file
  (const_item
    value: (struct_expression
      body: (field_initializer_list
        (field_initializer field: (field_identifier) @member value: (_) @member_value)))) @init_item)
; Structs: every one (its attributes say #[derive(Object)] or #[bitsize(N)]), the named
; fields with their types, and the elements of a tuple struct.
(source_file
  (struct_item name: (type_identifier) @struct) @struct_item)
(source_file
  (struct_item
    name: (type_identifier) @struct
    body: (field_declaration_list
      (field_declaration name: (field_identifier) @field type: (_) @field_type))) @struct_item)
(source_file
  (struct_item
    name: (type_identifier) @struct
    body: (ordered_field_declaration_list type: (_) @field_type)) @struct_item)
; Trait impls (ObjectType, ObjectImpl, DeviceImpl, ...): every one, and their associated
; consts (TYPE_NAME, ABSTRACT, VMSTATE), types (ParentType) and functions (vmsd()).
(source_file
  (impl_item trait: (_) @trait type: (_) @self) @impl)
(source_file
  (impl_item
    trait: (_) @trait type: (_) @self
    body: (declaration_list (const_item name: (identifier) @const value: (_) @value))) @impl)
(source_file
  (impl_item
    trait: (_) @trait type: (_) @self
    body: (declaration_list (type_item name: (type_identifier) @assoc type: (_) @assoc_type))) @impl)
(source_file
  (impl_item
    trait: (_) @trait type: (_) @self
    body: (declaration_list (function_item name: (identifier) @fn body: (block) @fn_body))) @impl)
; Macro calls at module level: impl_vmstate_forward!(T), impl_vmstate_bitsized!(T),
; impl_vmstate_scalar!(info, type, ...), impl_vmstate_transparent!(...), ...
(source_file
  (expression_statement (macro_invocation macro: (_) @macro (token_tree) @args) @call))
(source_file
  (macro_invocation macro: (_) @macro (token_tree) @args) @call)
