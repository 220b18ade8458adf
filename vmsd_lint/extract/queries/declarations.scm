; Top-level (or local) variables initialized with a brace list whose type is one of
; QEMU's migration/QOM description types: VMStateDescription, VMStateField, TypeInfo,
; VirtioPCIDeviceTypeInfo (the types virtio_pci_types_register() registers).
(declaration
  type: (type_identifier) @type
  (#match? @type "^(VMStateDescription|VMStateField|TypeInfo|VirtioPCIDeviceTypeInfo)$")
  declarator: (init_declarator
    declarator: (_) @declarator
    value: (initializer_list) @value)) @decl
; Tables of operations a class or a framework points to (`static const SysemuCPUOps
; arm_sysemu_ops = { .legacy_vmsd = &vmstate_arm_cpu, ... }`, VMStateInfo, SCSIBusInfo,
; SaveVMHandlers...): their members that name a function or the address of a variable.
(declaration
  type: (_) @ttype
  (#match? @ttype "(Ops|Info|Handlers)$")
  (#not-match? @ttype "(MemoryRegionOps|TypeInfo|PropertyInfo)$")
  declarator: (init_declarator
    declarator: (identifier) @tsymbol
    value: (initializer_list) @tvalue)) @table
; A macro called at file level (`SPAPR_CAP_MIG_STATE(htm, SPAPR_CAP_HTM);`): it may
; declare VMSDs, which only its expansion shows.
(translation_unit (expression_statement (call_expression function: (identifier) @macro_name)) @macro_call)
(preproc_ifdef (expression_statement (call_expression function: (identifier) @macro_name)) @macro_call)
(preproc_if (expression_statement (call_expression function: (identifier) @macro_name)) @macro_call)
