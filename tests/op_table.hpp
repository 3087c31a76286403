// The op table: one row per op of include/xgrad/ops.hpp, and one per form of
// an op that behaves differently (each broadcasting case of a binary op, each
// matrix-and-number form, each reduction axis, each form of a loss, each
// kernel/stride/padding of conv2d and window of the poolings, whose rows are
// in tests/op_table_images.hpp). A row
// says how to build the op for float and double, which inputs it takes and
// which of them are differentiable, the shapes it accepts, the values where
// it is differentiable, its value computed in plain loops, the formulas it
// prints, what it does with a NaN, and the mistakes it must refuse.
// PyTorch's OpInfo is the model.
//
// Every check of an op iterates this table:
//   tests/test_ops_grad.cpp      forward against the reference, gradients
//                                against float64 finite differences, float32
//                                against float64, every spelling alike
//   tests/test_op_table.cpp      every op of ops.hpp has a row; NaN propagation
//   tests/test_op_formulas.cpp   the printed formulas, and the formulas
//                                evaluated as numbers against the kernels
//   tests/test_explain.cpp       explain on each row
//   tests/op_table_regularisation.hpp  the rows of dropout, the normalisations and the L2 penalty
//   tests/test_random_graphs.cpp random graphs drawn from the rows
//   tests/bad_input_table.hpp    the op rows of the bad-input table
//   fuzz/fuzz_graph.cpp          ops chosen from the rows by the fuzz bytes
// A new op enters all of them by adding one row. No test framework here.
#pragma once

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "xgrad/xgrad.hpp"

namespace xgt::op_table {

using xg::Matrix;
using xg::Shape;
using Rng = std::mt19937_64;

/// The sizes a row's input shapes are made of: n rows, m columns (examples),
/// k an inner dimension (matmul's).
struct Dims {
    std::size_t n = 1, m = 1, k = 1;
};

/// The number an op takes besides its inputs: a scalar form's s, pow's
/// exponent, leaky_relu's slope.
struct Attr {
    double number = 0;
    xg::Conv2dSpec conv{};  ///< conv2d's image shape, kernel, stride and padding
    xg::Pool2dSpec pool{};  ///< the pooling's image shape, window and stride
    std::size_t begin = 0, end = 0;  ///< a slice's range [begin, end)
};

// ---- domains ------------------------------------------------------------------

/// The values an input takes in the table's checks: where the op is smooth
/// and finite differences are accurate, or what labels look like. Labels
/// (`data()`) are never differentiated and never given a NaN by the checks.
struct Domain {
    enum class Kind {
        any,          ///< N(0, 1)
        positive,     ///< in [0.2, 3]: log, sqrt, fractional powers
        nonzero,      ///< |x| in [0.5, 2], either sign: divisors, negative powers
        kink,         ///< N(0, 1) moved 0.1 away from 0: relu, abs, leaky_relu
        below,        ///< in [−3, 3]: exp (e³ ≈ 20)
        probability,  ///< in [0.05, 0.95]: binary cross-entropy on probabilities
        labels01,     ///< 0, 1 or soft labels in [0, 1], of the prediction's shape
        one_hot,      ///< one-hot columns of the logits' shape (input 0)
        class_index,  ///< 1 × m class indices below the logits' rows (input 0)
        token_index,  ///< 1 × m token ids below the embedding's columns (input 0)
    };
    Kind kind = Kind::any;

    bool data() const {
        return kind == Kind::labels01 || kind == Kind::one_hot || kind == Kind::class_index || kind == Kind::token_index;
    }

    const char* text() const {
        switch (kind) {
            case Kind::any: return "any";
            case Kind::positive: return "positive";
            case Kind::nonzero: return "nonzero";
            case Kind::kink: return "away from 0";
            case Kind::below: return "below 3";
            case Kind::probability: return "probability";
            case Kind::labels01: return "labels in [0, 1]";
            case Kind::one_hot: return "one-hot";
            case Kind::class_index: return "class indices";
            case Kind::token_index: return "token ids";
        }
        return "?";
    }

    /// Values for input i of the given input shapes.
    Matrix<double> sample(const std::vector<Shape>& shapes, std::size_t i, Rng& rng) const {
        const Shape s = shapes.at(i);
        Matrix<double> v({s.rows, s.cols});
        std::normal_distribution<double> normal(0.0, 1.0);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const auto u = [&](double lo, double hi) { return lo + (hi - lo) * unit(rng); };
        switch (kind) {
            case Kind::any:
                for (double& x : v) x = normal(rng);
                break;
            case Kind::positive:
                for (double& x : v) x = u(0.2, 3.0);
                break;
            case Kind::nonzero:
                for (double& x : v) x = (unit(rng) < 0.5 ? -1 : 1) * u(0.5, 2.0);
                break;
            case Kind::kink:
                for (double& x : v) {
                    x = normal(rng);
                    x += x >= 0 ? 0.1 : -0.1;
                }
                break;
            case Kind::below:
                for (double& x : v) x = u(-3.0, 3.0);
                break;
            case Kind::probability:
                for (double& x : v) x = u(0.05, 0.95);
                break;
            case Kind::labels01:
                for (double& x : v) x = unit(rng) < 2.0 / 3 ? double(unit(rng) < 0.5) : unit(rng);
                break;
            case Kind::one_hot:
                v.fill(0);
                for (std::size_t j = 0; j < s.cols; ++j) v(std::size_t(unit(rng) * double(s.rows)) % s.rows, j) = 1;
                break;
            case Kind::class_index: {
                const std::size_t K = shapes.at(0).rows;
                for (double& x : v) x = double(std::size_t(unit(rng) * double(K)) % K);
                break;
            }
            case Kind::token_index: {
                const std::size_t V = shapes.at(0).cols;
                for (double& x : v) x = double(std::size_t(unit(rng) * double(V)) % V);
                break;
            }
        }
        return v;
    }

    /// True when every entry of `v` lies in the domain (the random graphs ask
    /// this of a node before they feed it to an op). Labels are made, never found.
    bool contains(const Matrix<double>& v) const {
        for (double x : v) {
            const bool ok = kind == Kind::any           ? std::isfinite(x)
                            : kind == Kind::positive    ? x >= 0.2
                            : kind == Kind::nonzero     ? std::fabs(x) >= 0.3
                            : kind == Kind::kink        ? std::fabs(x) >= 0.01
                            : kind == Kind::below       ? x <= 3
                            : kind == Kind::probability ? x >= 0.01 && x <= 0.99
                                                        : false;
            if (!(ok && std::isfinite(x))) return false;
        }
        return true;
    }
};

inline Domain any() { return {Domain::Kind::any}; }
inline Domain positive() { return {Domain::Kind::positive}; }
inline Domain nonzero() { return {Domain::Kind::nonzero}; }
inline Domain kink() { return {Domain::Kind::kink}; }
inline Domain below() { return {Domain::Kind::below}; }
inline Domain probability() { return {Domain::Kind::probability}; }
inline Domain labels01() { return {Domain::Kind::labels01}; }
inline Domain one_hot() { return {Domain::Kind::one_hot}; }
inline Domain class_index() { return {Domain::Kind::class_index}; }
inline Domain token_index() { return {Domain::Kind::token_index}; }

// ---- how a row is built ---------------------------------------------------------

template <class T>
using Build = std::function<xg::Var<T>(const std::vector<xg::Var<T>>&, const Attr&)>;

/// One spelling of an op: the function or operator of ops.hpp it calls, as
/// "name(Var,double)" (the parameter types, Var for Var<T>), and the call
/// for float and double graphs.
struct Form {
    std::string call;
    Build<float> f32;
    Build<double> f64;

    template <class T>
    xg::Var<T> operator()(const std::vector<xg::Var<T>>& v, const Attr& a) const {
        if constexpr (std::is_same<T, float>::value) {
            return f32(v, a);
        } else {
            return f64(v, a);
        }
    }
};

/// A Form from a generic lambda `(const auto& vars, const Attr&) -> Var`.
template <class F>
Form form(std::string call, F f) {
    return Form{std::move(call), Build<float>(f), Build<double>(f)};
}

/// Named matrices and numbers for evaluating formulas (Row::teach_named).
struct Named {
    std::map<std::string, Matrix<double>> vars;
    std::map<std::string, double> symbols;
};

using Values = std::vector<Matrix<double>>;
using Reference = std::function<Matrix<double>(const Values&, const Attr&)>;
/// Functions of a matrix by the name formulas print (softmax, onehot, …).
using Functions = std::map<std::string, std::function<Matrix<double>(const Matrix<double>&)>>;

// ---- error cases ----------------------------------------------------------------

enum class Raises { shape_error, value_error, graph_error };

inline const char* name_of(Raises r) {
    switch (r) {
        case Raises::shape_error: return "ShapeError";
        case Raises::value_error: return "ValueError";
        case Raises::graph_error: return "GraphError";
    }
    return "?";
}

/// An input of an error case: a leaf of this name holding this value.
struct ErrorInput {
    std::string name;
    Matrix<double> value;
};

/// A mistake the op must refuse: building it on these inputs raises `raises`
/// with a message containing `call` ("log(Q)", the op and the nodes as the
/// message names them) and each of `mentions` (what is wrong, the shapes).
struct ErrorCase {
    std::string what;
    std::vector<ErrorInput> inputs;
    Raises raises;
    std::string call;
    std::vector<std::string> mentions;
    /// A value the op checks on every forward: new data given to a built node
    /// raises it on replay too (the bad-input table tries both).
    bool every_forward = false;
    /// The op's number for this case, when the case is about it.
    std::optional<Attr> attr = std::nullopt;
};

// ---- rows ------------------------------------------------------------------------

struct Row {
    std::string name;                 ///< unique, ASCII: "add", "add (nxm, nx1)"
    std::string op;                   ///< Op::name() of the node it builds
    std::vector<Form> forms;          ///< every spelling; forms[0] is the main one
    std::vector<std::string> inputs;  ///< input names, in order (also the formulas' names)
    std::vector<bool> differentiable;
    std::vector<Domain> domains;
    std::function<std::vector<Shape>(const Dims&)> shapes;
    Reference reference;               ///< the value in plain loops, in double
    Attr attr;                         ///< the number the row uses
    bool takes_number = false;         ///< the op has a number the fuzz may vary
    bool scalar = false;               ///< the output is 1 × 1 for every shape (a loss, Σ over all)
    bool exact = false;                ///< the value equals the reference bit for bit (plain arithmetic)
    /// False when the op reads only some entries of its input (a slice, an
    /// embedding lookup): a NaN in an entry it does not read shows nowhere.
    bool reads_every_entry = true;
    std::string out = "Y";             ///< the output's name in formulas (J for a loss)
    std::string formula;               ///< the forward formula, rendered with `inputs` and `out`
    std::vector<std::string> grads;    ///< per input of the node built: "dY ⊙ B", "" when none
    std::vector<bool> refuses_nan;     ///< per input: a NaN raises a ValueError saying so
    std::vector<ErrorCase> errors;
    /// Functions whose formula hides a number (leaky_relu's α, onehot's K), for
    /// evaluating the formulas: added to `f` given the node's input values.
    std::function<void(Functions& f, const Values& node_inputs, const Attr&)> teach;
    /// Matrices and numbers the formulas name besides the node's inputs
    /// (dropout's mask D, the normalisations' μ, σ and X̂, the penalty's λ),
    /// read from the built node `id` of `g`, for evaluating the formulas.
    std::function<void(Named& n, const xg::Graph<double>& g, std::uint32_t id, const Attr&)> teach_named;
    /// Per input, an op the leaf goes through before this one (the fused
    /// cross-entropy reads σ(Z), not Z); empty, or a Form with no call, for none.
    std::vector<Form> through;

    std::size_t arity() const { return inputs.size(); }

    /// The op's operands made from the leaves (through `through`).
    template <class T>
    std::vector<xg::Var<T>> operands(const std::vector<xg::Var<T>>& leaves) const {
        std::vector<xg::Var<T>> v = leaves;
        for (std::size_t i = 0; i < through.size() && i < v.size(); ++i) {
            if (!through[i].call.empty()) v[i] = through[i](std::vector<xg::Var<T>>{v[i]}, attr);
        }
        return v;
    }

    /// The row's node built on `leaves` (one per input), with form `f`.
    template <class T>
    xg::Var<T> build(const std::vector<xg::Var<T>>& leaves, const Attr& a, std::size_t f = 0) const {
        return forms.at(f)(operands(leaves), a);
    }
    bool refuses_nan_at(std::size_t i) const { return i < refuses_nan.size() && refuses_nan[i]; }
};

// ---- plain-loop references ---------------------------------------------------------

namespace ref {

inline double at(const Matrix<double>& a, std::size_t i, std::size_t j) {
    return a(a.shape()[0] == 1 ? 0 : i, a.shape()[1] == 1 ? 0 : j);
}

template <class F>
Matrix<double> map(const Matrix<double>& x, F f) {
    Matrix<double> y(x.shape());
    for (std::size_t k = 0; k < x.size(); ++k) y.data()[k] = f(x.data()[k]);
    return y;
}

/// f on a and b broadcast against each other (numpy's 2-D rules).
template <class F>
Matrix<double> zip(const Matrix<double>& a, const Matrix<double>& b, F f) {
    const std::size_t R = std::max(a.shape()[0], b.shape()[0]), C = std::max(a.shape()[1], b.shape()[1]);
    Matrix<double> y({R, C});
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C; ++j) y(i, j) = f(at(a, i, j), at(b, i, j));
    return y;
}

inline Matrix<double> matmul(const Matrix<double>& a, const Matrix<double>& b) {
    Matrix<double> c({a.shape()[0], b.shape()[1]});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t j = 0; j < b.shape()[1]; ++j) {
            double s = 0;
            for (std::size_t p = 0; p < a.shape()[1]; ++p) s += a(i, p) * b(p, j);
            c(i, j) = s;
        }
    return c;
}

inline Matrix<double> transpose(const Matrix<double>& a) {
    Matrix<double> t({a.shape()[1], a.shape()[0]});
    for (std::size_t i = 0; i < a.shape()[0]; ++i)
        for (std::size_t j = 0; j < a.shape()[1]; ++j) t(j, i) = a(i, j);
    return t;
}

/// Σ (or the mean) over every entry (1 × 1), over the rows (1 × m) or over the columns (n × 1).
inline Matrix<double> reduce(const Matrix<double>& x, xg::Axis axis, bool mean) {
    const std::size_t R = x.shape()[0], C = x.shape()[1];
    const std::size_t r = axis == xg::Axis::over_cols ? R : 1, c = axis == xg::Axis::over_rows ? C : 1;
    Matrix<double> y({r, c});
    y.fill(0);
    for (std::size_t i = 0; i < R; ++i)
        for (std::size_t j = 0; j < C; ++j) y(r == 1 ? 0 : i, c == 1 ? 0 : j) += x(i, j);
    if (mean) {
        const double n = double(R * C / (r * c));
        for (double& v : y) v /= n;
    }
    return y;
}

inline double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
inline double softplus(double x) { return std::log1p(std::exp(x)); }

/// Softmax of each column, with its maximum subtracted first.
inline Matrix<double> softmax(const Matrix<double>& z) {
    Matrix<double> s(z.shape());
    for (std::size_t j = 0; j < z.shape()[1]; ++j) {
        double mx = z(0, j), sum = 0;
        for (std::size_t i = 1; i < z.shape()[0]; ++i) mx = std::max(mx, z(i, j));
        for (std::size_t i = 0; i < z.shape()[0]; ++i) sum += std::exp(z(i, j) - mx);
        for (std::size_t i = 0; i < z.shape()[0]; ++i) s(i, j) = std::exp(z(i, j) - mx) / sum;
    }
    return s;
}

/// The K × m one-hot matrix of 1 × m class indices.
inline Matrix<double> onehot(const Matrix<double>& y, std::size_t K) {
    Matrix<double> o({K, y.shape()[1]});
    o.fill(0);
    for (std::size_t j = 0; j < y.shape()[1]; ++j) o(std::size_t(y(0, j)), j) = 1;
    return o;
}

inline Matrix<double> scalar(double v) { return Matrix<double>{{v}}; }

/// −(1/m) Σ [Y log A + (1 − Y) log(1 − A)] over the columns m of A.
inline Matrix<double> bce(const Matrix<double>& a, const Matrix<double>& y) {
    double s = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
        s += y.data()[k] * std::log(a.data()[k]) + (1 - y.data()[k]) * std::log(1 - a.data()[k]);
    }
    return scalar(-s / double(a.shape()[1]));
}

/// −(1/m) Σ Y ⊙ log softmax(Z).
inline Matrix<double> softmax_ce(const Matrix<double>& z, const Matrix<double>& y) {
    const Matrix<double> s = softmax(z);
    double t = 0;
    for (std::size_t k = 0; k < z.size(); ++k) t += y.data()[k] * std::log(s.data()[k]);
    return scalar(-t / double(z.shape()[1]));
}

}  // namespace ref

// ---- the table -----------------------------------------------------------------------

namespace detail {

inline Matrix<double> fill(std::size_t r, std::size_t c, double v) {
    Matrix<double> m({r, c});
    m.fill(v);
    return m;
}

/// Rows of numbers.
inline Matrix<double> mat(std::initializer_list<std::initializer_list<double>> rows) {
    Matrix<double> m({rows.size(), rows.begin()->size()});
    std::size_t i = 0;
    for (const auto& r : rows) {
        std::size_t j = 0;
        for (double v : r) m(i, j++) = v;
        ++i;
    }
    return m;
}

/// Distinct numbers for a shape-error case (their values never matter).
inline Matrix<double> some(std::size_t r, std::size_t c) {
    Matrix<double> m({r, c});
    for (std::size_t k = 0; k < m.size(); ++k) m.data()[k] = 0.25 + 0.125 * double(k % 7);
    return m;
}

using ShapesFn = std::function<std::vector<Shape>(const Dims&)>;

inline ShapesFn same(std::size_t inputs) {
    return [inputs](const Dims& d) { return std::vector<Shape>(inputs, Shape{d.n, d.m}); };
}

/// The ways two operands broadcast: equal, a column, a row, a 1 × 1 on either
/// side, and a column against a row (both stretch).
struct Broadcast {
    const char* text;
    ShapesFn shapes;
};

inline const std::vector<Broadcast>& broadcasts() {
    static const std::vector<Broadcast> b = {
        {"(nxm, nxm)", [](const Dims& d) { return std::vector<Shape>{{d.n, d.m}, {d.n, d.m}}; }},
        {"(nxm, nx1)", [](const Dims& d) { return std::vector<Shape>{{d.n, d.m}, {d.n, 1}}; }},
        {"(nx1, nxm)", [](const Dims& d) { return std::vector<Shape>{{d.n, 1}, {d.n, d.m}}; }},
        {"(nxm, 1xm)", [](const Dims& d) { return std::vector<Shape>{{d.n, d.m}, {1, d.m}}; }},
        {"(1xm, nxm)", [](const Dims& d) { return std::vector<Shape>{{1, d.m}, {d.n, d.m}}; }},
        {"(nxm, 1x1)", [](const Dims& d) { return std::vector<Shape>{{d.n, d.m}, {1, 1}}; }},
        {"(1x1, nxm)", [](const Dims& d) { return std::vector<Shape>{{1, 1}, {d.n, d.m}}; }},
        {"(nx1, 1xm)", [](const Dims& d) { return std::vector<Shape>{{d.n, 1}, {1, d.m}}; }},
        {"(1xm, nx1)", [](const Dims& d) { return std::vector<Shape>{{1, d.m}, {d.n, 1}}; }},
    };
    return b;
}

/// A unary elementwise row: Y = f(X).
inline Row unary(std::string name, std::string op, std::vector<Form> forms, Domain d, std::function<double(double)> f,
                 std::string input, std::string formula, std::string grad, Attr attr = {}) {
    Row r;
    r.name = std::move(name);
    r.op = std::move(op);
    r.forms = std::move(forms);
    r.inputs = {std::move(input)};
    r.differentiable = {true};
    r.domains = {d};
    r.shapes = same(1);
    r.reference = [f](const Values& in, const Attr&) { return ref::map(in[0], f); };
    r.attr = attr;
    r.formula = std::move(formula);
    r.grads = {std::move(grad)};
    return r;
}

/// "leaky_relu(x)" with slope α, for evaluating formulas.
inline double leaky(double x, double alpha) { return x > 0 ? x : x <= 0 ? alpha * x : x; }

/// The error cases shared by the broadcasting binary ops: operands no 2-D
/// broadcast combines, each named with its shape.
inline std::vector<ErrorCase> broadcast_errors(const std::string& op, bool all) {
    const auto c = [&op](const char* what, std::size_t r, std::size_t cols, const char* name) {
        const std::string call = op + "(Z1, " + name + ")";
        return ErrorCase{what, {{"Z1", some(4, 5)}, {name, some(r, cols)}}, Raises::shape_error, call,
                         {"cannot broadcast (each dimension must be equal, or 1)", "Z1 [4x5]",
                          std::string(name) + " [" + std::to_string(r) + "x" + std::to_string(cols) + "]"}};
    };
    if (!all) {
        if (op == "sub") return {c("rows differ, neither is 1", 3, 5, "R")};
        if (op == "mul") return {c("a row of the wrong length", 1, 3, "r")};
        return {c("a bias column of the wrong length", 2, 1, "b")};
    }
    return {
        c("rows differ, neither is 1", 3, 5, "R"),
        c("columns differ, neither is 1", 4, 3, "C"),
        c("a bias column of the wrong length", 3, 1, "b"),
        c("a row of the wrong length", 1, 7, "r"),
        c("both dimensions differ", 2, 3, "D"),
        ErrorCase{"the wrong bias on the left",
                  {{"b", some(3, 1)}, {"Z1", some(4, 5)}},
                  Raises::shape_error,
                  op + "(b, Z1)",
                  {"cannot broadcast", "b [3x1]", "Z1 [4x5]"}},
    };
}

}  // namespace detail

}  // namespace xgt::op_table

#include "op_table_images.hpp"  // conv2d, max_pool2d, avg_pool2d: add_image_rows
#include "op_table_regularisation.hpp"  // dropout, batch_norm, layer_norm, l2_penalty: add_regularisation_rows
#include "op_table_sequence.hpp"  // rows, columns, concat_rows, concat_columns, embedding: add_sequence_rows

namespace xgt::op_table {

namespace detail {

inline std::vector<Row> make_rows() {
    using xg::Axis;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<Row> t;

    // ---- matmul
    {
        Row r;
        r.name = "matmul";
        r.op = "matmul";
        r.forms = {form("matmul(Var,Var)", [](const auto& v, const Attr&) { return matmul(v[0], v[1]); })};
        r.inputs = {"A", "B"};
        r.differentiable = {true, true};
        r.domains = {any(), any()};
        r.shapes = [](const Dims& d) { return std::vector<Shape>{{d.n, d.k}, {d.k, d.m}}; };
        r.reference = [](const Values& in, const Attr&) { return ref::matmul(in[0], in[1]); };
        r.formula = "A · B";
        r.grads = {"dY · Bᵀ", "Aᵀ · dY"};
        r.errors = {
            {"inner dimensions differ", {{"W1", some(4, 2)}, {"K", some(3, 5)}}, Raises::shape_error,
             "matmul(W1, K)", {"inner dimensions differ", "W1 [4x2]", "K [3x5]"}},
            {"operands in the wrong order", {{"X", some(2, 5)}, {"W1", some(4, 2)}}, Raises::shape_error,
             "matmul(X, W1)", {"inner dimensions differ", "X [2x5]", "W1 [4x2]"}},
        };
        t.push_back(r);
    }

    // ---- broadcasting arithmetic: every case of every op
    struct Binary {
        const char* op;
        Form fn, oper;
        std::function<double(double, double)> f;
        Domain b;
        const char* formula;
        std::vector<std::string> grads;
    };
    const Binary binaries[] = {
        {"add", form("add(Var,Var)", [](const auto& v, const Attr&) { return add(v[0], v[1]); }),
         form("operator+(Var,Var)", [](const auto& v, const Attr&) { return v[0] + v[1]; }),
         [](double a, double b) { return a + b; }, any(), "A + B", {"dY", "dY"}},
        {"sub", form("sub(Var,Var)", [](const auto& v, const Attr&) { return sub(v[0], v[1]); }),
         form("operator-(Var,Var)", [](const auto& v, const Attr&) { return v[0] - v[1]; }),
         [](double a, double b) { return a - b; }, any(), "A − B", {"dY", "−dY"}},
        {"mul", form("mul(Var,Var)", [](const auto& v, const Attr&) { return mul(v[0], v[1]); }),
         form("operator*(Var,Var)", [](const auto& v, const Attr&) { return v[0] * v[1]; }),
         [](double a, double b) { return a * b; }, any(), "A ⊙ B", {"dY ⊙ B", "dY ⊙ A"}},
        {"div", form("div(Var,Var)", [](const auto& v, const Attr&) { return div(v[0], v[1]); }),
         form("operator/(Var,Var)", [](const auto& v, const Attr&) { return v[0] / v[1]; }),
         [](double a, double b) { return a / b; }, nonzero(), "A / B", {"dY / B", "−(dY ⊙ A) / B²"}},
    };
    for (const Binary& b : binaries) {
        bool first = true;
        for (const Broadcast& bc : broadcasts()) {
            Row r;
            r.name = first ? std::string(b.op) : std::string(b.op) + " " + bc.text;  // "add" for equal shapes
            r.op = b.op;
            r.forms = {b.fn, b.oper};
            r.inputs = {"A", "B"};
            r.differentiable = {true, true};
            r.domains = {any(), b.b};
            r.shapes = bc.shapes;
            const auto f = b.f;
            r.reference = [f](const Values& in, const Attr&) { return ref::zip(in[0], in[1], f); };
            r.formula = b.formula;
            r.grads = b.grads;
            r.exact = true;
            if (first) {
                r.errors = broadcast_errors(b.op, std::string(b.op) == "add");
                if (std::string(b.op) == "div") {
                    r.errors.push_back({"a zero divisor entry", {{"X", some(2, 5)}, {"D", mat({{1}, {0}})}},
                                        Raises::value_error, "div(X, D)",
                                        {"division by zero", "divisor entry (1, 0) = 0"}, true});
                }
            }
            first = false;
            t.push_back(r);
        }
    }

    // ---- neg and the matrix-and-number forms
    t.push_back(unary("neg", "neg",
                      {form("neg(Var)", [](const auto& v, const Attr&) { return neg(v[0]); }),
                       form("operator-(Var)", [](const auto& v, const Attr&) { return -v[0]; })},
                      any(), [](double x) { return -x; }, "X", "−X", "−dY"));
    t.back().exact = true;
    struct Scalar {
        const char* op;
        std::vector<Form> forms;
        std::function<double(double, double)> f;  // (x, s)
        Domain d;
        double s;
        const char* formula;
        const char* grad;
    };
    const Scalar scalars[] = {
        {"x_plus_s",
         {form("operator+(Var,double)", [](const auto& v, const Attr& a) { return v[0] + a.number; }),
          form("operator+(double,Var)", [](const auto& v, const Attr& a) { return a.number + v[0]; })},
         [](double x, double s) { return x + s; }, any(), 1, "X + 1", "dY"},
        {"x_minus_s", {form("operator-(Var,double)", [](const auto& v, const Attr& a) { return v[0] - a.number; })},
         [](double x, double s) { return x - s; }, any(), 1, "X − 1", "dY"},
        {"s_minus_x", {form("operator-(double,Var)", [](const auto& v, const Attr& a) { return a.number - v[0]; })},
         [](double x, double s) { return s - x; }, any(), 2, "2 − X", "−dY"},
        {"s_times_x",
         {form("operator*(double,Var)", [](const auto& v, const Attr& a) { return a.number * v[0]; }),
          form("operator*(Var,double)", [](const auto& v, const Attr& a) { return v[0] * a.number; })},
         [](double x, double s) { return s * x; }, any(), 2, "2 X", "2 dY"},
        {"x_over_s", {form("operator/(Var,double)", [](const auto& v, const Attr& a) { return v[0] / a.number; })},
         [](double x, double s) { return x / s; }, any(), 400, "X / 400", "dY / 400"},
        {"s_over_x", {form("operator/(double,Var)", [](const auto& v, const Attr& a) { return a.number / v[0]; })},
         [](double x, double s) { return s / x; }, nonzero(), 3, "3 / X", "−3 dY / X²"},
    };
    for (const Scalar& s : scalars) {
        const auto f = s.f;
        Row r = unary(s.op, s.op, s.forms, s.d, {}, "X", s.formula, s.grad, Attr{s.s});
        r.reference = [f](const Values& in, const Attr& a) {
            return ref::map(in[0], [&](double x) { return f(x, a.number); });
        };
        r.takes_number = true;
        r.exact = true;
        const std::string op = s.op;
        if (op == "x_plus_s") {
            r.errors = {{"a NaN number", {{"X", some(2, 5)}}, Raises::value_error, "x_plus_s(X)",
                         {"the number is not finite: nan"}, false, Attr{nan}}};
        } else if (op == "x_over_s") {
            r.errors = {{"division by the number 0", {{"X", some(2, 5)}}, Raises::value_error, "x_over_s(X)",
                         {"division by zero"}, false, Attr{0}}};
        } else if (op == "s_over_x") {
            r.errors = {{"a zero entry", {{"Q", mat({{1, 0}})}}, Raises::value_error, "s_over_x(Q)",
                         {"division by zero", "divisor entry (0, 1) = 0"}, true}};
        }
        t.push_back(r);
    }

    // ---- elementwise functions
    {
        Row r = unary("exp", "exp", {form("exp(Var)", [](const auto& v, const Attr&) { return exp(v[0]); })}, below(),
                      [](double x) { return std::exp(x); }, "X", "exp(X)", "dY ⊙ Y");
        t.push_back(r);
    }
    {
        Row r = unary("log", "log", {form("log(Var)", [](const auto& v, const Attr&) { return log(v[0]); })},
                      positive(), [](double x) { return std::log(x); }, "P", "log(P)", "dY / P");
        r.errors = {
            {"an entry of 0", {{"Q", mat({{1, 0}})}}, Raises::value_error, "log(Q)", {"entry (0, 1) = 0 is not positive"},
             true},
            {"a negative entry", {{"Q", mat({{-2, 2}})}}, Raises::value_error, "log(Q)",
             {"entry (0, 0) = -2 is not positive"}, true},
        };
        t.push_back(r);
    }
    t.push_back(unary("square", "square",
                      {form("square(Var)", [](const auto& v, const Attr&) { return square(v[0]); })}, any(),
                      [](double x) { return x * x; }, "X", "X²", "2 dY ⊙ X"));
    {
        const auto pow_form = form("pow(Var,double)", [](const auto& v, const Attr& a) { return pow(v[0], a.number); });
        const auto p = [](double x, double e) { return std::pow(x, e); };
        Row r3 = unary("pow (p = 3)", "pow", {pow_form}, any(), {}, "X", "X³", "3 dY ⊙ X²", Attr{3});
        Row rn = unary("pow (p = -2)", "pow", {pow_form}, nonzero(), {}, "X", "X^−2", "−2 dY ⊙ X^−3", Attr{-2});
        Row rh = unary("pow (p = 0.5)", "pow", {pow_form}, positive(), {}, "P", "P^0.5", "0.5 dY ⊙ P^−0.5", Attr{0.5});
        for (Row* r : {&r3, &rn, &rh}) {
            r->reference = [p](const Values& in, const Attr& a) {
                return ref::map(in[0], [&](double x) { return p(x, a.number); });
            };
            r->takes_number = true;
        }
        r3.errors = {{"an infinite exponent", {{"X", some(2, 5)}}, Raises::value_error, "pow(X)",
                      {"the exponent is not finite: inf"}, false, Attr{inf}}};
        rn.errors = {{"a zero base with a negative exponent", {{"Q", mat({{4, 0}})}}, Raises::value_error, "pow(Q)",
                      {"entry (0, 1) = 0 is 0 and the exponent is negative"}, true}};
        rh.errors = {{"a negative base with a non-integer exponent", {{"Q", mat({{-4, 4}})}}, Raises::value_error,
                      "pow(Q)", {"entry (0, 0) = -4 is negative and the exponent is not an integer"}, true}};
        t.push_back(r3);
        t.push_back(rn);
        t.push_back(rh);
    }
    {
        Row r = unary("sqrt", "sqrt", {form("sqrt(Var)", [](const auto& v, const Attr&) { return sqrt(v[0]); })},
                      positive(), [](double x) { return std::sqrt(x); }, "P", "√(P)", "dY / (2 Y)");
        r.errors = {{"a negative number", {{"Q", mat({{1, -1}})}}, Raises::value_error, "sqrt(Q)",
                     {"entry (0, 1) = -1 is negative"}, true}};
        t.push_back(r);
    }
    t.push_back(unary("abs", "abs", {form("abs(Var)", [](const auto& v, const Attr&) { return abs(v[0]); })}, kink(),
                      [](double x) { return std::fabs(x); }, "X", "abs(X)", "dY ⊙ sign(X)"));

    // ---- activations
    t.push_back(unary("sigmoid", "sigmoid",
                      {form("sigmoid(Var)", [](const auto& v, const Attr&) { return sigmoid(v[0]); })}, any(),
                      ref::sigmoid, "X", "σ(X)", "dY ⊙ Y ⊙ (1 − Y)"));
    t.push_back(unary("tanh", "tanh", {form("tanh(Var)", [](const auto& v, const Attr&) { return tanh(v[0]); })},
                      any(), [](double x) { return std::tanh(x); }, "X", "tanh(X)", "dY ⊙ (1 − Y²)"));
    t.push_back(unary("relu", "relu", {form("relu(Var)", [](const auto& v, const Attr&) { return relu(v[0]); })},
                      kink(), [](double x) { return x > 0 ? x : 0.0; }, "X", "relu(X)", "dY ⊙ step(X)"));
    {
        const auto teach = [](Functions& f, const Values&, const Attr& a) {
            const double alpha = a.number;
            f["leaky_relu"] = [alpha](const Matrix<double>& x) {
                return ref::map(x, [alpha](double v) { return leaky(v, alpha); });
            };
        };
        Row r = unary("leaky_relu (alpha = 0.1)", "leaky_relu",
                      {form("leaky_relu(Var,double)",
                            [](const auto& v, const Attr& a) { return leaky_relu(v[0], a.number); })},
                      kink(), {}, "X", "leaky_relu(X)", "dY ⊙ (0.1 + 0.9 step(X))", Attr{0.1});
        r.takes_number = true;
        r.reference = [](const Values& in, const Attr& a) {
            return ref::map(in[0], [&](double x) { return x > 0 ? x : a.number * x; });
        };
        r.teach = teach;
        r.errors = {{"a NaN slope", {{"X", some(2, 5)}}, Raises::value_error, "leaky_relu(X)",
                     {"alpha is not finite: nan"}, false, Attr{nan}}};
        t.push_back(r);
        Row d = unary("leaky_relu (default alpha)", "leaky_relu",
                      {form("leaky_relu(Var,double)", [](const auto& v, const Attr&) { return leaky_relu(v[0]); })},
                      kink(), {}, "X", "leaky_relu(X)", "dY ⊙ (0.01 + 0.99 step(X))", Attr{0.01});
        d.reference = r.reference;
        d.teach = teach;
        t.push_back(d);
    }
    t.push_back(unary("softplus", "softplus",
                      {form("softplus(Var)", [](const auto& v, const Attr&) { return softplus(v[0]); })}, any(),
                      ref::softplus, "X", "softplus(X)", "dY ⊙ σ(X)"));
    {
        Row r = unary("softmax", "softmax",
                      {form("softmax(Var)", [](const auto& v, const Attr&) { return softmax(v[0]); })}, any(), {},
                      "X", "softmax(X)", "Y ⊙ (dY − Σ_rows(dY ⊙ Y))");
        r.reference = [](const Values& in, const Attr&) { return ref::softmax(in[0]); };
        t.push_back(r);
    }

    // ---- reductions
    struct Reduction {
        const char* name;
        Axis axis;
        bool mean;
        const char* formula;
        const char* grad;
    };
    const Reduction reductions[] = {
        {"sum (all)", Axis::all, false, "Σ X", "dY"},
        {"sum (over_rows)", Axis::over_rows, false, "Σ_rows X", "dY"},
        {"sum (over_cols)", Axis::over_cols, false, "Σ_columns X", "dY"},
        {"mean (all)", Axis::all, true, "(1 / (n m)) Σ X", "dY / (n m)"},
        {"mean (over_rows)", Axis::over_rows, true, "(1 / n) Σ_rows X", "dY / n"},
        {"mean (over_cols)", Axis::over_cols, true, "(1 / m) Σ_columns X", "dY / m"},
    };
    for (const Reduction& d : reductions) {
        const Axis axis = d.axis;
        const bool mean = d.mean;
        std::vector<Form> forms;
        if (mean) {
            forms = {form("mean(Var,Axis)", [axis](const auto& v, const Attr&) { return xg::mean(v[0], axis); })};
            if (axis == Axis::all) forms.push_back(form("mean(Var,Axis)", [](const auto& v, const Attr&) { return xg::mean(v[0]); }));
        } else {
            forms = {form("sum(Var,Axis)", [axis](const auto& v, const Attr&) { return xg::sum(v[0], axis); })};
            if (axis == Axis::all) forms.push_back(form("sum(Var,Axis)", [](const auto& v, const Attr&) { return xg::sum(v[0]); }));
        }
        Row r = unary(d.name, mean ? "mean" : "sum", forms, any(), {}, "X", d.formula, d.grad);
        r.reference = [axis, mean](const Values& in, const Attr&) { return ref::reduce(in[0], axis, mean); };
        r.scalar = axis == Axis::all;
        t.push_back(r);
    }

    // ---- structure
    {
        Row r = unary("transpose", "transpose",
                      {form("transpose(Var)", [](const auto& v, const Attr&) { return transpose(v[0]); })}, any(), {},
                      "X", "Xᵀ", "dYᵀ");
        r.reference = [](const Values& in, const Attr&) { return ref::transpose(in[0]); };
        t.push_back(r);
    }
    {
        Row r = unary("detach", "detach", {form("detach(Var)", [](const auto& v, const Attr&) { return detach(v[0]); })},
                      any(), [](double x) { return x; }, "X", "X", "");
        r.differentiable = {false};
        t.push_back(r);
    }

    // ---- images: convolution and pooling (tests/op_table_images.hpp)
    add_image_rows(t);

    // ---- losses
    const auto loss = [](std::string name, std::string op, Form f, std::vector<std::string> inputs,
                         std::vector<Domain> domains, std::vector<bool> diff, Reference reference, std::string formula,
                         std::vector<std::string> grads) {
        Row r;
        r.name = std::move(name);
        r.op = std::move(op);
        r.forms = {std::move(f)};
        r.inputs = std::move(inputs);
        r.differentiable = std::move(diff);
        r.domains = std::move(domains);
        r.shapes = same(2);
        r.reference = std::move(reference);
        r.scalar = true;
        r.out = "J";
        r.formula = std::move(formula);
        r.grads = std::move(grads);
        return r;
    };
    const auto bce_form = form("binary_cross_entropy(Var,Var)",
                               [](const auto& v, const Attr&) { return binary_cross_entropy(v[0], v[1]); });
    {
        Row r = loss("binary_cross_entropy (probabilities)", "binary_cross_entropy", bce_form, {"P", "Y"},
                     {probability(), labels01()}, {true, false},
                     [](const Values& in, const Attr&) { return ref::bce(in[0], in[1]); },
                     "−(1 / m) Σ(Y ⊙ log(P) + (1 − Y) ⊙ log(1 − P))", {"dJ ((P − Y) / (m P ⊙ (1 − P)))", ""});
        r.refuses_nan = {true, true};
        r.errors = {
            {"labels transposed", {{"P", fill(1, 5, 0.3)}, {"Yt", fill(5, 1, 1)}}, Raises::shape_error,
             "binary_cross_entropy(P, Yt)", {"labels must have the prediction's shape", "P [1x5]", "Yt [5x1]"}},
            {"a label of -0.5", {{"P", fill(1, 5, 0.3)}, {"Yb", mat({{-0.5, 1, 1, 0, 1}})}}, Raises::value_error,
             "binary_cross_entropy(P, Yb)", {"label Y(0, 0) = -0.5 is outside [0, 1]"}, true},
            {"a probability of exactly 0", {{"P", mat({{0.5, 0, 0.5, 0.5, 0.5}})}, {"Y", mat({{0, 1, 1, 0, 1}})}},
             Raises::value_error, "binary_cross_entropy(P, Y)",
             {"probability A(0, 1) = 0 is not inside (0, 1)", "pass the logits"}, true},
            {"a probability of exactly 1", {{"P", mat({{0.5, 0.5, 0.5, 1, 0.5}})}, {"Y", mat({{0, 1, 1, 0, 1}})}},
             Raises::value_error, "binary_cross_entropy(P, Y)", {"probability A(0, 3) = 1 is not inside (0, 1)"}, true},
            {"a NaN probability", {{"P", mat({{nan, 0.5, 0.5, 0.5, 0.5}})}, {"Y", mat({{0, 1, 1, 0, 1}})}},
             Raises::value_error, "binary_cross_entropy(P, Y)", {"probability A(0, 0) is NaN"}, true},
        };
        t.push_back(r);
    }
    {
        // A = σ(Z) fuses: the loss is evaluated from the logits Z; the node's
        // inputs are (A, Y, Z) and the gradient goes to Z.
        Row r = loss("binary_cross_entropy (on sigmoid)", "binary_cross_entropy", bce_form, {"Z", "Y"}, {any(), labels01()}, {true, false},
                     [](const Values& in, const Attr&) { return ref::bce(ref::map(in[0], ref::sigmoid), in[1]); },
                     "−(1 / m) Σ(Y ⊙ log(A) + (1 − Y) ⊙ log(1 − A))", {"", "", "dJ ((A − Y) / m)"});
        r.through = {form("sigmoid", [](const auto& v, const Attr&) { return sigmoid(v[0]).named("A"); })};
        r.refuses_nan = {false, true};
        r.errors = {
            {"labels of the wrong shape", {{"Z2", some(1, 5)}, {"Y4", mat({{0, 1, 1, 0}})}}, Raises::shape_error,
             "binary_cross_entropy(A, Y4)", {"labels must have the prediction's shape", "A [1x5]", "Y4 [1x4]"}},
            {"a label of 2", {{"Z2", some(1, 5)}, {"Yb", mat({{0, 1, 2, 0, 1}})}}, Raises::value_error,
             "binary_cross_entropy(A, Yb)", {"label Y(0, 2) = 2 is outside [0, 1]"}, true},
        };
        t.push_back(r);
    }
    {
        Row r = loss("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits",
                     form("binary_cross_entropy_with_logits(Var,Var)",
                          [](const auto& v, const Attr&) { return binary_cross_entropy_with_logits(v[0], v[1]); }),
                     {"Z", "Y"}, {any(), labels01()}, {true, false},
                     [](const Values& in, const Attr&) { return ref::bce(ref::map(in[0], ref::sigmoid), in[1]); },
                     "−(1 / m) Σ(Y ⊙ log(σ(Z)) + (1 − Y) ⊙ log(1 − σ(Z)))", {"dJ ((σ(Z) − Y) / m)", ""});
        r.refuses_nan = {false, true};
        r.errors = {
            {"labels of the wrong shape", {{"Z2", some(1, 5)}, {"Y2", fill(2, 5, 1)}}, Raises::shape_error,
             "binary_cross_entropy_with_logits(Z2, Y2)",
             {"labels must have the prediction's shape", "Z2 [1x5]", "Y2 [2x5]"}},
            {"a NaN label", {{"Z2", some(1, 5)}, {"Yb", mat({{0, 1, 1, 0, nan}})}}, Raises::value_error,
             "binary_cross_entropy_with_logits(Z2, Yb)", {"label Y(0, 4) is NaN"}, true},
        };
        t.push_back(r);
    }
    const auto sce_form = form("softmax_cross_entropy(Var,Var)",
                               [](const auto& v, const Attr&) { return softmax_cross_entropy(v[0], v[1]); });
    {
        Row r = loss("softmax_cross_entropy (one-hot)", "softmax_cross_entropy", sce_form, {"Z", "Y"},
                     {any(), one_hot()}, {true, false},
                     [](const Values& in, const Attr&) { return ref::softmax_ce(in[0], in[1]); },
                     "−(1 / m) Σ(Y ⊙ log(softmax(Z)))", {"dJ ((softmax(Z) − Y) / m)", ""});
        r.refuses_nan = {false, true};
        r.errors = {
            {"labels neither one-hot K x m nor indices 1 x m", {{"S", some(3, 5)}, {"L", fill(2, 5, 0.5)}},
             Raises::shape_error, "softmax_cross_entropy(S, L)",
             {"labels must be one-hot of the logits' shape (K x m) or class indices (1 x m)", "S [3x5]", "L [2x5]"}},
            {"a label outside [0, 1]", {{"S", some(2, 3)}, {"L", mat({{0, 1, 1}, {2, 0, 0}})}}, Raises::value_error,
             "softmax_cross_entropy(S, L)", {"label Y(1, 0) = 2 is outside [0, 1]"}, true},
            {"a label column that does not sum to 1", {{"S", some(2, 3)}, {"L", mat({{0, 1, 0}, {1, 0, 0}})}},
             Raises::value_error, "softmax_cross_entropy(S, L)", {"label column 2 sums to 0, not 1"}, true},
            {"a NaN label", {{"S", some(2, 3)}, {"L", mat({{0, 1, nan}, {1, 0, 0}})}}, Raises::value_error,
             "softmax_cross_entropy(S, L)", {"label Y(0, 2) is NaN"}, true},
        };
        t.push_back(r);
    }
    {
        Row r = loss("softmax_cross_entropy (class indices)", "softmax_cross_entropy", sce_form, {"Z", "y"},
                     {any(), class_index()}, {true, false},
                     [](const Values& in, const Attr&) {
                         return ref::softmax_ce(in[0], ref::onehot(in[1], in[0].shape()[0]));
                     },
                     "−(1 / m) Σ(onehot(y) ⊙ log(softmax(Z)))", {"dJ ((softmax(Z) − onehot(y)) / m)", ""});
        // Indices need K ≥ 2: labels of the logits' shape read as one-hot.
        r.shapes = [](const Dims& d) { return std::vector<Shape>{{d.n + 1, d.m}, {1, d.m}}; };
        r.refuses_nan = {false, true};
        r.teach = [](Functions& f, const Values& in, const Attr&) {
            const std::size_t K = in.at(0).shape()[0];
            f["onehot"] = [K](const Matrix<double>& y) { return ref::onehot(y, K); };
        };
        const auto index = [](const char* what, double bad, const std::string& shown) {
            const bool nan_case = std::isnan(bad);
            return ErrorCase{std::string("class index ") + what,
                             {{"S", some(3, 4)}, {"y", mat({{0, bad, 2, 1}})}},
                             Raises::value_error,
                             "softmax_cross_entropy(S, y)",
                             nan_case ? std::vector<std::string>{"class index y(0, 1) is NaN"}
                                      : std::vector<std::string>{"class index y(0, 1) = " + shown +
                                                                     " is not one of 0, 1, ..., 2",
                                                                 "the logits have 3 rows"},
                             true};
        };
        r.errors = {
            {"class indices for another number of examples", {{"S", some(3, 5)}, {"y", mat({{0, 1, 2, 0}})}},
             Raises::shape_error, "softmax_cross_entropy(S, y)", {"class indices (1 x m)", "S [3x5]", "y [1x4]"}},
            {"class indices as a column", {{"S", some(3, 5)}, {"y", fill(5, 1, 1)}}, Raises::shape_error,
             "softmax_cross_entropy(S, y)", {"class indices (1 x m)", "S [3x5]", "y [5x1]"}},
            index("out of range (= K)", 3, "3"),
            index("negative", -1, "-1"),
            index("not an integer", 1.5, "1.5"),
            index("NaN", nan, "nan"),
        };
        t.push_back(r);
    }
    {
        Row r = loss("mean_squared_error", "mean_squared_error",
                     form("mean_squared_error(Var,Var)",
                          [](const auto& v, const Attr&) { return mean_squared_error(v[0], v[1]); }),
                     {"A", "Y"}, {any(), any()}, {true, true},
                     [](const Values& in, const Attr&) {
                         double s = 0;
                         for (std::size_t k = 0; k < in[0].size(); ++k) {
                             const double d = in[0].data()[k] - in[1].data()[k];
                             s += d * d;
                         }
                         return ref::scalar(s / double(in[0].shape()[1]));
                     },
                     "(1 / m) Σ (A − Y)²", {"dJ (2 (A − Y) / m)", "−dJ (2 (A − Y) / m)"});
        r.errors = {{"a target of the wrong shape", {{"A1", some(4, 5)}, {"T", some(4, 4)}}, Raises::shape_error,
                     "mean_squared_error(A1, T)",
                     {"the target must have the prediction's shape", "A1 [4x5]", "T [4x4]"}}};
        t.push_back(r);
    }
    // ---- regularisation and normalisation (tests/op_table_regularisation.hpp)
    add_regularisation_rows(t);

    // ---- sequences: slices, joins, embeddings (tests/op_table_sequence.hpp)
    add_sequence_rows(t);
    return t;
}

}  // namespace detail

/// Every row, in a fixed order.
inline const std::vector<Row>& rows() {
    static const std::vector<Row> t = detail::make_rows();
    return t;
}

/// The row called `name` (nullptr when there is none).
inline const Row* find(const std::string& name) {
    for (const Row& r : rows()) {
        if (r.name == name) return &r;
    }
    return nullptr;
}

/// The row called `name`; throws std::logic_error when there is none.
inline const Row& row(const std::string& name) {
    const Row* r = find(name);
    if (!r) throw std::logic_error("no row " + name + " in the op table");
    return *r;
}

/// Dims for which input `slot` of `r` has shape `s`, among sizes 1 … `max`
/// (empty when there are none).
inline std::vector<Dims> dims_for(const Row& r, std::size_t slot, Shape s, std::size_t max = 4) {
    std::vector<Dims> out;
    for (std::size_t n = 1; n <= max; ++n)
        for (std::size_t m = 1; m <= max; ++m)
            for (std::size_t k = 1; k <= max; ++k) {
                const Dims d{n, m, k};
                if (r.shapes(d).at(slot) == s) out.push_back(d);
            }
    return out;
}

/// Safe values for every input of `r` at `dims`.
inline Values sample(const Row& r, const Dims& dims, Rng& rng) {
    const std::vector<Shape> shapes = r.shapes(dims);
    Values v;
    for (std::size_t i = 0; i < r.arity(); ++i) v.push_back(r.domains[i].sample(shapes, i, rng));
    return v;
}

}  // namespace xgt::op_table
