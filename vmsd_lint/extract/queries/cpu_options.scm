; The CPU properties a board sets and their defaults (extract/cpuoptions.py).

; DEFINE_PROP_BOOL("has_el3", ARMCPU, has_el3, true): the property, the field, the default
(call_expression
  function: (identifier) @define (#eq? @define "DEFINE_PROP_BOOL")
  arguments: (argument_list . (string_literal) @name . (identifier) @type . (identifier) @field
                            . (_) @default .)) @prop

; object_property_add_bool(obj, "pmu", arm_get_pmu, arm_set_pmu): the field is what the setter sets
(call_expression
  function: (identifier) @add (#eq? @add "object_property_add_bool")
  arguments: (argument_list . (_) . (string_literal) @name . (_) . (identifier) @setter .)) @added

; object_property_set_bool(cpuobj, "has_el3", false, NULL): a board setting a property
(call_expression
  function: (identifier) @set (#eq? @set "object_property_set_bool")
  arguments: (argument_list . (_) @object . (string_literal) @name . (_) @value)) @setting

; x->field = value;  (vms->secure = false; vmc->no_pmu = true; cpu->has_pmu = value;)
(expression_statement
  (assignment_expression
    left: (field_expression argument: (identifier) @base field: (field_identifier) @member)
    operator: "="
    right: (_) @value)) @assign

; .instance_init = virt_instance_init
(initializer_pair
  designator: (field_designator (field_identifier) @designator (#eq? @designator "instance_init"))
  value: (identifier) @function) @instance_init
