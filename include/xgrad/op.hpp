// xgrad — the op interface. An op is one small struct holding everything about
// it: its name, shape inference, forward, backward and the formulas `explain`
// prints. The engine calls it; adding an op never touches the engine, and a
// user can define one in their own code (see docs/howto-custom-op.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/error.hpp"
#include "xgrad/formula.hpp"
#include "xgrad/tensor.hpp"

namespace xg {

template <class T>
class Graph;
class Rng;

/// What shape inference sees: the op's name, and the shapes and display names
/// of its inputs. `fail` throws the ShapeError every op uses, so that all
/// messages read alike: "matmul(W1, X): inner dimensions differ: W1 [4x2], X [3x400]".
class ShapeContext {
public:
    ShapeContext(std::string op, std::vector<Shape> shapes, std::vector<std::string> names)
        : op_(std::move(op)), shapes_(std::move(shapes)), names_(std::move(names)) {}

    /// The number of inputs.
    std::size_t arity() const { return shapes_.size(); }
    /// Input i's shape.
    Shape shape(std::size_t i) const { return shapes_.at(i); }
    /// Input i's display name (given, or generated "t7").
    const std::string& name(std::size_t i) const { return names_.at(i); }
    /// The op's name.
    const std::string& op() const { return op_; }

    /// Throw ShapeError "op(a, b): <what>: a [r x c], b [r x c]".
    [[noreturn]] void fail(const std::string& what) const;
    /// Throw ShapeError unless the op has exactly `n` inputs.
    void require_arity(std::size_t n) const;
    /// Throw ShapeError unless inputs i and j have the same shape.
    void require_same(std::size_t i, std::size_t j, const std::string& what = "shapes differ") const;
    /// The numpy-style 2-D broadcast of all inputs (each dimension equal, or 1);
    /// throws ShapeError "cannot broadcast" otherwise.
    Shape broadcast() const;

private:
    std::string op_;
    std::vector<Shape> shapes_;
    std::vector<std::string> names_;
};

/// What is known about the zeros of a parameter's gradient buffer: when
/// `known`, every entry outside the listed columns is zero (a column may be
/// listed more than once). An op that writes only a few columns of a large
/// gradient (embedding: the columns of the looked-up tokens) reads it to clear
/// only what the last sweep wrote, instead of the whole buffer. Write access
/// to the gradient from outside (Parameter::grad() on a non-const handle), or
/// a write by an op that does not keep the list, makes it unknown.
struct GradColumns {
    bool known = false;
    std::vector<std::size_t> columns;

    /// Every entry is zero.
    void set_all_zero() {
        known = true;
        columns.clear();  // keeps the capacity: no allocation in a replayed step
    }
    void forget() {
        known = false;
        columns.clear();
    }
};

/// Where an op writes the gradient for one input. `accumulate` says whether
/// the buffer already holds a contribution (add to it) or not (overwrite it);
/// `store` applies that choice for an elementwise formula. `columns` is set
/// only for a parameter's own gradient buffer (see Op::keeps_grad_columns).
/// `rows_begin`, `rows_end`: the rows of the gradient that are read further
/// back; an op whose Op::writes_grad_rows is true for this input writes only
/// those (every other op writes all rows and ignores them).
template <class T>
struct GradSink {
    MutView<T> view;
    bool accumulate = false;
    GradColumns* columns = nullptr;
    std::size_t rows_begin = 0;
    std::size_t rows_end = std::size_t(-1);

    /// The rows to write: [first_row(), end_row()), within the view.
    std::size_t first_row() const { return rows_begin < view.rows ? rows_begin : view.rows; }
    std::size_t end_row() const { return rows_end < view.rows ? rows_end : view.rows; }

    /// view[k] = f(k), or view[k] += f(k) when accumulating.
    template <class F>
    void store(F&& f) const {
        T* d = view.data;
        const std::size_t n = view.size();
        if (accumulate) {
            for (std::size_t k = 0; k < n; ++k) d[k] += f(k);
        } else {
            for (std::size_t k = 0; k < n; ++k) d[k] = f(k);
        }
    }
};

namespace detail {
template <class T>
struct NodeBuffers;
}

/// What an op's forward sees: its inputs' values, its output buffer (already
/// of the inferred shape) and per-node scratch buffers it may keep.
template <class T>
class ForwardContext {
public:
    /// The number of inputs.
    std::size_t arity() const { return n_in_; }
    /// Input i's value.
    ConstView<T> in(std::size_t i) const { return in_[i]; }
    /// The output buffer, of the inferred shape.
    MutView<T> out() const { return out_; }
    /// Scratch matrix k of this node, of shape s; kept between replays, so it
    /// is allocated only when the shape first appears. A reference to scratch
    /// k stays valid while the op asks for other scratch matrices. Its
    /// entries start at zero when the node makes it (its first shape); after
    /// a change of shape they are unspecified.
    Matrix<T>& scratch(std::size_t k, Shape s) const;
    /// Throw ValueError "op(inputs): <what>" naming this node.
    [[noreturn]] void fail(const std::string& what) const;
    /// True when the graph computes in Mode::training (Graph::set_mode).
    bool training() const;
    /// True when the op must keep its random draws and running averages as
    /// they are (Graph::hold_random_state, and when the engine recomputes a
    /// value on request).
    bool holding() const;
    /// The graph's generator, for an op that draws (dropout's masks).
    Rng& rng() const;

private:
    friend class Graph<T>;
    const Graph<T>* graph_ = nullptr;
    std::uint32_t node_ = 0;
    const ConstView<T>* in_ = nullptr;
    std::size_t n_in_ = 0;
    MutView<T> out_;
};

/// What an op's backward sees: inputs, output, the gradient g arriving at the
/// output, and one GradSink per input that needs a gradient.
///
/// For an op whose inputs broadcast to the output (`Op::broadcasts()`), every
/// sink has the *output's* shape and the engine sums it back over the
/// stretched axes (keepdims) — un-broadcasting lives in the engine, not in ops.
/// Otherwise a sink has the input's shape.
template <class T>
class BackwardContext {
public:
    /// The number of inputs.
    std::size_t arity() const { return n_in_; }
    /// Input i's value.
    ConstView<T> in(std::size_t i) const { return in_[i]; }
    /// The output's value.
    ConstView<T> out() const { return out_; }
    /// The gradient g arriving at the output (the output's shape).
    ConstView<T> dout() const { return dout_; }
    /// True when input i takes a gradient in this sweep.
    bool needs_grad(std::size_t i) const { return need_[i] != 0; }
    /// The sink for input i (only valid when needs_grad(i)).
    const GradSink<T>& grad(std::size_t i) const {
        if (!sinks_[i].view.data && need_[i]) prepare_sink(i);  // a broadcast sink, made on first use
        return sinks_[i];
    }
    /// Declare d(input i) = s · g — an identity-like pass-through (add, sub,
    /// neg, scalar scale). The engine writes it (un-broadcasting as needed)
    /// without a scratch buffer. Do not also write grad(i).
    void pass_through(std::size_t i, T s = T(1));
    /// Scratch matrix k of this node, as ForwardContext::scratch (the same buffers).
    Matrix<T>& scratch(std::size_t k, Shape s) const;

private:
    friend class Graph<T>;
    void prepare_sink(std::size_t i) const;
    Graph<T>* graph_ = nullptr;
    std::uint32_t node_ = 0;
    const ConstView<T>* in_ = nullptr;
    std::size_t n_in_ = 0;
    ConstView<T> out_;
    ConstView<T> dout_;
    GradSink<T>* sinks_ = nullptr;
    const char* need_ = nullptr;  // 1 where input i needs a gradient
    char* pass_ = nullptr;        // 1 where the op asked for a pass-through
    T* pass_scale_ = nullptr;
};

/// The interface of every op, built-in or user-defined.
template <class T>
class Op {
public:
    virtual ~Op() = default;

    /// Short name used in messages and equations: "matmul", "tanh".
    virtual std::string name() const = 0;
    /// Output shape from the input shapes; throws ShapeError (use c.fail).
    /// A function of the input shapes only: when the leaves take back the
    /// shapes they had before their last change, the engine reuses the
    /// shapes inferred then instead of calling it again.
    virtual Shape shape(const ShapeContext& c) const = 0;
    /// out = f(inputs). The output buffer has the inferred shape.
    virtual void forward(const ForwardContext<T>& c) const = 0;
    /// Write d(input i) for every i with c.needs_grad(i).
    virtual void backward(BackwardContext<T>& c) const = 0;

    /// The forward value as a formula over sym::in(i), for people: explain()
    /// prints it. Must not be empty. The engine never reads it.
    virtual sym::Expr formula() const = 0;
    /// The gradient sent to input i, over sym::grad(), sym::out(), sym::in(j),
    /// for people: explain() prints it. Must not be empty. The engine never
    /// reads it: what the engine relies on is declared by the queries below.
    virtual sym::Expr grad_formula(std::size_t i) const = 0;

    // ---- the contract: what the engine relies on -----------------------

    /// True when inputs broadcast to the output shape (elementwise ops): the
    /// sinks of backward() then have the output's shape and the engine sums
    /// them over the stretched axes.
    virtual bool broadcasts() const { return false; }
    /// False for inputs that carry no gradient (labels, values used only as
    /// data): the engine never asks for their gradient.
    virtual bool differentiable(std::size_t /*i*/) const { return true; }
    /// True only when the gradient backward() sends to input i equals the
    /// incoming gradient g, unchanged, whenever the two have the same shape
    /// (add, the X of X − Y or X + s). The engine may then let the input's
    /// gradient share the output's buffer and skip the copy, so an op that
    /// claims it and computes anything else gets wrong gradients. The default
    /// is false, which is always safe.
    virtual bool gradient_is_identity(std::size_t /*i*/) const { return false; }
    /// True only when forward() computes the right output while its output
    /// buffer *is* input i's buffer (each output entry from input i's entry
    /// at the same position, read before it is written, as `add` does), and
    /// backward() never reads input i's value. The engine may then keep the
    /// value of an op node that only this op reads, of the output's shape,
    /// in the output's buffer (W·X in W·X + b): one buffer less. The default
    /// is false, which is always safe.
    virtual bool forward_in_place(std::size_t /*i*/) const { return false; }
    /// False only when backward() never reads the op's own output value
    /// (c.out()), as matmul's: a precondition for keeping that value in its
    /// consumer's buffer (forward_in_place). The default is true, which is
    /// always safe.
    virtual bool backward_reads_output() const { return true; }
    /// True only when backward(), for every sink whose `columns` is set (a
    /// parameter's gradient), leaves `*columns` true to the buffer: known
    /// only if every entry outside the listed columns is zero (overwriting:
    /// clear the listed columns, or the whole buffer when unknown, write, and
    /// list what was written; accumulating: append what was added to). The
    /// engine otherwise marks the list unknown before the op's backward. The
    /// default is false, which is always safe.
    virtual bool keeps_grad_columns() const { return false; }
    /// True only when backward() writes just the rows [first_row(), end_row())
    /// of input i's sink (leaving the others as they are), and writes the same
    /// numbers for any such range when called again after the sweep with only
    /// input i needing a gradient (matmul's dB = Aᵀ · g). The engine then lets
    /// it skip the rows of that gradient that nothing further back reads (see
    /// dout_rows_read), and Graph::grad computes them on request. The default
    /// is false, which is always safe.
    virtual bool writes_grad_rows(std::size_t /*i*/) const { return false; }
    /// The rows [first, second) of the output's gradient that backward()
    /// reads, given the input shapes and which inputs take a gradient
    /// (`needs[i]` is 1): concat_rows reads only the blocks of the inputs
    /// that do. The default, all rows, is always safe.
    virtual std::pair<std::size_t, std::size_t> dout_rows_read(Shape out, const std::vector<Shape>& /*inputs*/,
                                                               const std::vector<char>& /*needs*/) const {
        return {0, out.rows};
    }
};

}  // namespace xg
