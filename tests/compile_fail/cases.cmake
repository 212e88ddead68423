# Compile-fail cases: file name -> a regex the diagnostic must match on both compilers.
set(TYPENET_CF_MAX_LINES 20)
# An error found inside a graph's node walk: clang prints the path from the failing node to the
# user's tn::model(...) line (node shape, graph check, graph, model) as notes, 3 lines each.
set(TYPENET_CF_GRAPH_MAX_LINES 36)
set(TYPENET_COMPILE_FAIL_CASES dense_needs_rank1 reshape_size not_a_layer nested_model_input make_needs_input
    conv_kernel_too_large conv_groups conv_stride_zero pool_too_large
    graph_concat_shapes residual_shape graph_unused_input graph_undeclared_input graph_name_clash graph_shared_shapes
    graph_layer_shape whole_program wrong_input_tensor size_overflow predict_wrong_batch
    step_bidirectional pool1d_too_long graph_broadcast_shapes int8_grouped_conv bf16_grouped_conv bf16_small_recurrent
    winograd_stride winograd_two_tiles)
set(TYPENET_CF_int8_grouped_conv_EXPECT
    "at_layer<0, [a-z0-9_:]*Conv2D<12, [a-z0-9_:]*kernel<3(, 3)?>, [a-z0-9_:]*groups<3>, [a-z0-9_:]*int8_weights> ?>::has_invalid_options<[a-z0-9_:]*int8_weights_is_for_conv2d_with_groups_1>")
set(TYPENET_CF_bf16_grouped_conv_EXPECT
    "at_layer<0, [a-z0-9_:]*Conv2D<12, [a-z0-9_:]*kernel<3(, 3)?>, [a-z0-9_:]*groups<2>, [a-z0-9_:]*bf16_weights> ?>::has_invalid_options<[a-z0-9_:]*bf16_weights_is_for_conv2d_with_groups_1>")
set(TYPENET_CF_bf16_small_recurrent_EXPECT
    "at_layer<0, [a-z0-9_:]*LSTM<8, [a-z0-9_:]*return_sequences, [a-z0-9_:]*bf16_weights> ?>::has_invalid_options<[a-z0-9_:]*bf16_weights_is_for_recurrent_layers_of_16_units_or_more>")
set(TYPENET_CF_step_bidirectional_EXPECT
    "streaming_runs_one_step_at_a_time<[a-z0-9_:]*GRU<8, [a-z0-9_:]*return_sequences, [a-z0-9_:]*bidirectional> ?>::but_this_layer_reads_the_whole_sequence")
set(TYPENET_CF_predict_wrong_batch_EXPECT
    "predict_takes<xt::xtensor_container<xt::uvector<float, std::allocator<float> ?>, 2, xt::layout_type::row_major, xt::xtensor_expression_tag> ?>::but_is_called_with<xt::xtensor_container<xt::uvector<float, std::allocator<float> ?>, 3, ")
set(TYPENET_CF_size_overflow_EXPECT
    "size overflow: a parameter or output count of the layer in this condition does not fit")
set(TYPENET_CF_dense_needs_rank1_EXPECT
    "at_layer<3, [a-z0-9_:]*Dense<10> ?>::expects_input<[a-z0-9_:]*shape_of_rank<1> ?>::but_gets<[a-z0-9_:]*Shape<4, 4, 4> ?>")
set(TYPENET_CF_reshape_size_EXPECT
    "at_layer<1, [a-z0-9_:]*Reshape<5, 5> ?>::expects_input<[a-z0-9_:]*shape_with_size<25> ?>::but_gets<[a-z0-9_:]*Shape<24> ?>")
set(TYPENET_CF_not_a_layer_EXPECT "at_layer<1, NotALayer>::is_not_a_layer_on_input<[a-z0-9_:]*Shape<3> ?>")
set(TYPENET_CF_nested_model_input_EXPECT "at_layer<0, Encoder>::expects_input<[a-z0-9_:]*Shape<6> ?>::but_gets<[a-z0-9_:]*Shape<7> ?>")
set(TYPENET_CF_make_needs_input_EXPECT "make_needs_a_model_with_input<[a-z0-9_:]*Sequential<[a-z0-9_:]*Dense<4>, [a-z0-9_:]*Dense<2> ?> ?>")
set(TYPENET_CF_conv_kernel_too_large_EXPECT
    "at_layer<1, [a-z0-9_:]*Conv2D<8, [a-z0-9_:]*kernel<7(, 7)?> ?> ?>::expects_input<[a-z0-9_:]*spatial_size_at_least<7, 7> ?>::but_gets<[a-z0-9_:]*Shape<5, 5, 8> ?>")
set(TYPENET_CF_conv_groups_EXPECT
    "at_layer<0, [a-z0-9_:]*Conv2D<12, [a-z0-9_:]*kernel<3(, 3)?>, [a-z0-9_:]*groups<3> ?> ?>::expects_input<[a-z0-9_:]*channels_divisible_by<3> ?>::but_gets<[a-z0-9_:]*Shape<10, 10, 8> ?>")
set(TYPENET_CF_conv_stride_zero_EXPECT "at_layer<0, [a-z0-9_:]*Conv2D<4, [a-z0-9_:]*kernel<3(, 3)?>, [a-z0-9_:]*stride<0(, 0)?> ?> ?>::has_invalid_options<[a-z0-9_:]*stride_must_be_at_least_1>")
set(TYPENET_CF_pool_too_large_EXPECT
    "at_layer<0, [a-z0-9_:]*MaxPool2D<4> ?>::expects_input<[a-z0-9_:]*spatial_size_at_least<4, 4> ?>::but_gets<[a-z0-9_:]*Shape<3, 8, 2> ?>")
set(TYPENET_CF_graph_concat_shapes_EXPECT
    "merge_at<[a-z0-9_:]*unnamed_node, [a-z0-9_:]*Concat<-1> ?>::inputs<[a-z0-9_:]*Shape<8, 8, 16>, [a-z0-9_:]*Shape<16, 16, 8> ?>::must_agree_except_on_axis<-1>")
set(TYPENET_CF_graph_broadcast_shapes_EXPECT
    "merge_at<[a-z0-9_:]*unnamed_node, [a-z0-9_:]*Multiply ?>::inputs<[a-z0-9_:]*Shape<8, 8, 16>, [a-z0-9_:]*Shape<8> ?>::must_broadcast_to_one_shape")
set(TYPENET_CF_residual_shape_EXPECT
    "at_layer<0, [a-z0-9_:]*Residual<.*> ?>::expects_input<[a-z0-9_:]*shape_of_its_body_output<[a-z0-9_:]*Shape<8, 8, 32> ?> ?>::but_gets<[a-z0-9_:]*Shape<8, 8, 16> ?>")
set(TYPENET_CF_graph_unused_input_EXPECT "graph_input<[a-z0-9_:]*fixed_string<8>{\"tabular\"}>::is_used_by_no_output")
set(TYPENET_CF_graph_undeclared_input_EXPECT "graph_input<[a-z0-9_:]*fixed_string<8>{\"tabular\"}>::is_used_but_not_listed_in_inputs")
set(TYPENET_CF_graph_name_clash_EXPECT
    "layer_named<[a-z0-9_:]*fixed_string<3>{\"fc\"}>::names_two_different_layers<[a-z0-9_:]*Dense<8, [a-z0-9_:]*relu>, [a-z0-9_:]*Dense<4> ?>")
set(TYPENET_CF_graph_shared_shapes_EXPECT
    "layer_named<[a-z0-9_:]*fixed_string<8>{\"encoder\"}>::is_shared_by_calls_on_different_shapes<[a-z0-9_:]*Shape<64>, [a-z0-9_:]*Shape<48> ?>")
set(TYPENET_CF_graph_layer_shape_EXPECT
    "at_node<[a-z0-9_:]*node<[a-z0-9_:]*fixed_string<7>{\"shared\"}> ?, [a-z0-9_:]*Dense<16, [a-z0-9_:]*relu> ?>::expects_input<[a-z0-9_:]*shape_of_rank<1> ?>::but_gets<[a-z0-9_:]*Shape<28, 28, 1> ?>")
set(TYPENET_CF_whole_program_EXPECT
    "at_layer<2, [a-z0-9_:]*Dense<10> ?>::expects_input<[a-z0-9_:]*shape_of_rank<1> ?>::but_gets<[a-z0-9_:]*Shape<13, 13, 8> ?>")
set(TYPENET_CF_wrong_input_tensor_EXPECT "net_takes<[a-z0-9_:]*Shape<28, 28, 1> ?>::but_is_called_with<")
set(TYPENET_CF_pool1d_too_long_EXPECT
    "at_layer<1, [a-z0-9_:]*MaxPool1D<30> ?>::expects_input<[a-z0-9_:]*sequence_length_at_least<30> ?>::but_gets<[a-z0-9_:]*Shape<24, 4> ?>")
set(TYPENET_CF_winograd_stride_EXPECT
    "at_layer<0, [a-z0-9_:]*Conv2D<32, [a-z0-9_:]*kernel<3(, 3)?>, [a-z0-9_:]*stride<2(, 2)?>, [a-z0-9_:]*winograd> ?>::has_invalid_options<[a-z0-9_:]*winograd_is_for_3x3_convolutions_with_stride_1_dilation_1_groups_1>")
set(TYPENET_CF_winograd_two_tiles_EXPECT
    "at_layer<0, [a-z0-9_:]*Conv2D<64, [a-z0-9_:]*kernel<3(, 3)?>, [a-z0-9_:]*padding<1(, 1)?>, [a-z0-9_:]*winograd_2x2, [a-z0-9_:]*winograd_4x4> ?>::has_invalid_options<[a-z0-9_:]*a_convolution_takes_one_winograd_option>")
