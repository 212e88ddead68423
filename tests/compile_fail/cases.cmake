# Compile-fail cases: file name -> a regex the diagnostic must match on both compilers.
set(TYPENET_CF_MAX_LINES 20)
set(TYPENET_COMPILE_FAIL_CASES dense_needs_rank1 reshape_size not_a_layer nested_model_input make_needs_input
    conv_kernel_too_large conv_groups conv_stride_zero pool_too_large)
set(TYPENET_CF_dense_needs_rank1_EXPECT
    "at_layer<3, (typenet::)?Dense<10> ?>::expects_input<(typenet::)?shape_of_rank<1> ?>::but_gets<(typenet::)?Shape<4, 4, 4> ?>")
set(TYPENET_CF_reshape_size_EXPECT
    "at_layer<1, (typenet::)?Reshape<5, 5> ?>::expects_input<(typenet::)?shape_with_size<25> ?>::but_gets<(typenet::)?Shape<24> ?>")
set(TYPENET_CF_not_a_layer_EXPECT "at_layer<1, NotALayer>::is_not_a_layer_on_input<(typenet::)?Shape<3> ?>")
set(TYPENET_CF_nested_model_input_EXPECT "at_layer<0, Encoder>::expects_input<(typenet::)?Shape<6> ?>::but_gets<(typenet::)?Shape<7> ?>")
set(TYPENET_CF_make_needs_input_EXPECT "make_needs_a_model_with_input<typenet::Sequential<typenet::Dense<4>, typenet::Dense<2> ?> ?>")
set(TYPENET_CF_conv_kernel_too_large_EXPECT
    "at_layer<1, (typenet::)?Conv2D<8, (typenet::)?kernel<7(, 7)?> ?> ?>::expects_input<(typenet::)?spatial_size_at_least<7, 7> ?>::but_gets<(typenet::)?Shape<5, 5, 8> ?>")
set(TYPENET_CF_conv_groups_EXPECT
    "at_layer<0, (typenet::)?Conv2D<12, (typenet::)?kernel<3(, 3)?>, (typenet::)?groups<3> ?> ?>::expects_input<(typenet::)?channels_divisible_by<3> ?>::but_gets<(typenet::)?Shape<10, 10, 8> ?>")
set(TYPENET_CF_conv_stride_zero_EXPECT "at_layer<0, (typenet::)?Conv2D<4, (typenet::)?kernel<3(, 3)?>, (typenet::)?stride<0(, 0)?> ?> ?>::has_invalid_options<(typenet::)?stride_must_be_at_least_1>")
set(TYPENET_CF_pool_too_large_EXPECT
    "at_layer<0, (typenet::)?MaxPool2D<4> ?>::expects_input<(typenet::)?spatial_size_at_least<4, 4> ?>::but_gets<(typenet::)?Shape<3, 8, 2> ?>")
