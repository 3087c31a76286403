// xgrad — reverse-mode automatic differentiation on a graph of matrices.
// The umbrella header: everything a user needs.
#pragma once

#include "xgrad/check.hpp"
#include "xgrad/error.hpp"
#include "xgrad/explain.hpp"
#include "xgrad/formula.hpp"
#include "xgrad/graph.hpp"
#include "xgrad/op.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/tensor.hpp"
