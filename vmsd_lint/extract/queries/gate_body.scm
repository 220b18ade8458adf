; Inside such a function's body: the pointers it declares and the type they point to
; (`RAMFBStandaloneState *ramfb = RAMFB(opaque);`), which say whose field it reads.
(declaration
  type: (_) @type
  declarator: [
    (init_declarator declarator: (pointer_declarator declarator: (identifier) @var))
    (pointer_declarator declarator: (identifier) @var)
  ])
; and its parameters declared as such pointers (`static bool f(VirtIONet *n)`)
(parameter_declaration
  type: (_) @type
  declarator: (pointer_declarator declarator: (identifier) @var))
