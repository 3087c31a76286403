// One way to compile a template for both value types. Internal to the library.
//
//   #define XG_UNARY_OPS(T) template Var<T> exp(Var<T>); template Var<T> log(Var<T>);
//   XG_INSTANTIATE_FLOAT_DOUBLE(XG_UNARY_OPS)
//   #undef XG_UNARY_OPS
#pragma once

/// Expand `LIST(T)`, a macro of explicit instantiations over a type T, for
/// T = float and T = double.
#define XG_INSTANTIATE_FLOAT_DOUBLE(LIST) LIST(float) LIST(double)
