; The functions a VMSD's .needed or a field's test names (extract/gates.py): name and body.
(function_definition
  declarator: (function_declarator declarator: (identifier) @name)
  body: (compound_statement) @body) @function
