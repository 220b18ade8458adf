; Top-level (or local) variables initialized with a brace list whose type is one of
; QEMU's migration/QOM description types: VMStateDescription, VMStateField, TypeInfo,
; VirtioPCIDeviceTypeInfo (the types virtio_pci_types_register() registers).
(declaration
  type: (type_identifier) @type
  (#match? @type "^(VMStateDescription|VMStateField|TypeInfo|VirtioPCIDeviceTypeInfo)$")
  declarator: (init_declarator
    declarator: (_) @declarator
    value: (initializer_list) @value)) @decl
