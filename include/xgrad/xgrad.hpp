// xgrad — reverse-mode automatic differentiation on a graph of matrices.
// The umbrella header: everything a user needs.
#pragma once

#include "xgrad/check.hpp"
#include "xgrad/data.hpp"
#include "xgrad/derivation.hpp"
#include "xgrad/error.hpp"
#include "xgrad/explain.hpp"
#include "xgrad/formula.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/io.hpp"
#include "xgrad/nn.hpp"
#include "xgrad/node_check.hpp"
#include "xgrad/op.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/optim.hpp"
#include "xgrad/plan.hpp"
#include "xgrad/random.hpp"
#include "xgrad/recurrent.hpp"
#include "xgrad/tensor.hpp"
#include "xgrad/threads.hpp"
#include "xgrad/two_layer.hpp"
