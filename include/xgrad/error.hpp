// xgrad — the exceptions a user's mistake can raise. All derive from xg::Error
// (itself a std::runtime_error), so `catch (const xg::Error&)` catches them all.
#pragma once

#include <stdexcept>
#include <string>

namespace xg {

/// Base of every error xgrad reports about its input.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Operand shapes that an op cannot combine (raised when the node is built,
/// or on replay after a leaf changed shape). The message names the op, the
/// nodes and their shapes: "add(Z, b1): cannot broadcast Z [4x400] with b1 [3x1]".
class ShapeError : public Error {
public:
    using Error::Error;
};

/// Values an op cannot accept: labels outside their range, probabilities of
/// exactly 0 or 1 for the non-logits cross-entropy, non-finite numbers.
class ValueError : public Error {
public:
    using Error::Error;
};

/// Misuse of the graph itself: a node of another graph, backward() on a
/// non-scalar node, asking for a gradient that the last sweep did not compute.
class GraphError : public Error {
public:
    using Error::Error;
};

/// A file that cannot be read or written, or whose content is not what was
/// expected (missing, truncated, wrong dtype, wrong shape).
class IoError : public Error {
public:
    using Error::Error;
};

}  // namespace xg
