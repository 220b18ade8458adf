; Named CPU models of the targets other than x86 and Arm (extract/othermodels.py).
; Captures inside function bodies are dropped by the reader (a TypeInfo built in a loop is
; a registration, not a definition).

; Read after functions.scm (extract/othermodels.py _query): its @function, @name and @body
; are a model's init functions.

; A declaration with an initializer: a TypeInfo or an array of them, a table of CPU
; definitions (mips_def_t mips_defs[], S390CPUDef s390_cpu_defs[]), s390x's feature lists.
(declaration
  type: (_) @type
  declarator: (init_declarator declarator: (_) @declarator value: (initializer_list) @value)) @declaration

; A macro call standing alone: POWERPC_DEF("405d2", CPU_POWERPC_405D2, 405, "PowerPC 405 D2")
(expression_statement
  (call_expression function: (identifier) @macro) @row) @statement

; A macro that declares a function, then its body:
; POWERPC_FAMILY(405)(ObjectClass *oc, void *data) { ... }
((expression_statement
   (call_expression function: (call_expression function: (identifier) @head_macro) @head)) @head_statement
 .
 (compound_statement) @head_body)

; The same where tree-sitter reads it as a function of type POWERPC_FAMILY named (POWER11)
; (as it does in parts of target/ppc/cpu_init.c)
(function_definition
  type: (type_identifier) @head_macro
  declarator: (function_declarator declarator: (parenthesized_declarator (identifier) @head_argument))
  body: (compound_statement) @head_body) @head_definition
