// Random graphs: hundreds of seeded random graphs built from the whole op
// set, with random broadcast-compatible shapes and values in each op's safe
// domain, reduced to a scalar loss; every parameter's gradient is checked
// against float64 central finite differences, and the float32 build of the
// same graph against the float64 one.
//
// Reproduce one graph: XGRAD_RANDOM_GRAPH_SEED=123 build/tests/test_random_graphs
// (prints the graph's equations and its gradient check).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "helpers.hpp"

using xg::Matrix;

namespace {

// Every op and every form of an op the generator uses.
enum class Code {
    input, parameter,
    matmul, add, sub, mul, div,
    neg, add_s, sub_s, rsub_s, mul_s, div_s, rdiv_s,
    exp, log, square, pow, sqrt, abs,
    sigmoid, tanh, relu, leaky_relu, softplus, softmax,
    sum_all, sum_rows, sum_cols, mean_all, mean_rows, mean_cols,
    transpose, detach,
    bce, bce_on_sigmoid, bce_with_logits, softmax_ce_one_hot, softmax_ce_indices, mse,
    count
};

const char* code_name(Code c) {
    static const char* names[] = {
        "input", "parameter",
        "matmul", "add", "sub", "mul", "div",
        "neg", "X + s", "X - s", "s - X", "s X", "X / s", "s / X",
        "exp", "log", "square", "pow", "sqrt", "abs",
        "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax",
        "sum", "sum rows", "sum cols", "mean", "mean rows", "mean cols",
        "transpose", "detach",
        "bce", "bce on sigmoid", "bce with logits", "softmax ce one-hot", "softmax ce indices", "mse"};
    return names[static_cast<int>(c)];
}

/// One node of a program: an op on earlier nodes (by index), or a leaf.
struct Instr {
    explicit Instr(Code c, int a_ = -1, int b_ = -1, double s_ = 0) : code(c), a(a_), b(b_), s(s_) {}
    Code code;
    int a, b;
    double s;              // a scalar op's number, pow's exponent, leaky_relu's slope
    Matrix<double> value;  // a leaf's value
};

/// Build the node of `in` on `g`, whose earlier nodes are `v`.
template <class T>
xg::Var<T> build(xg::Graph<T>& g, const std::vector<xg::Var<T>>& v, const Instr& in) {
    using xg::detail::ScalarKind;
    const std::string id = std::to_string(v.size());
    const auto A = [&] { return v.at(std::size_t(in.a)); };
    const auto B = [&] { return v.at(std::size_t(in.b)); };
    switch (in.code) {
        case Code::input: return g.input(xt::cast<T>(in.value), "x" + id);
        case Code::parameter: return g.parameter(Matrix<T>(xt::cast<T>(in.value)), "p" + id);
        case Code::matmul: return matmul(A(), B());
        case Code::add: return A() + B();
        case Code::sub: return A() - B();
        case Code::mul: return A() * B();
        case Code::div: return A() / B();
        case Code::neg: return -A();
        case Code::add_s: return A() + in.s;
        case Code::sub_s: return A() - in.s;
        case Code::rsub_s: return in.s - A();
        case Code::mul_s: return in.s * A();
        case Code::div_s: return A() / in.s;
        case Code::rdiv_s: return in.s / A();
        case Code::exp: return exp(A());
        case Code::log: return log(A());
        case Code::square: return square(A());
        case Code::pow: return pow(A(), in.s);
        case Code::sqrt: return sqrt(A());
        case Code::abs: return abs(A());
        case Code::sigmoid: return sigmoid(A());
        case Code::tanh: return tanh(A());
        case Code::relu: return relu(A());
        case Code::leaky_relu: return leaky_relu(A(), in.s);
        case Code::softplus: return softplus(A());
        case Code::softmax: return softmax(A());
        case Code::sum_all: return sum(A());
        case Code::sum_rows: return sum(A(), xg::Axis::rows);
        case Code::sum_cols: return sum(A(), xg::Axis::cols);
        case Code::mean_all: return mean(A());
        case Code::mean_rows: return mean(A(), xg::Axis::rows);
        case Code::mean_cols: return mean(A(), xg::Axis::cols);
        case Code::transpose: return transpose(A());
        case Code::detach: return detach(A());
        case Code::bce:
        case Code::bce_on_sigmoid: return binary_cross_entropy(A(), B());
        case Code::bce_with_logits: return binary_cross_entropy_with_logits(A(), B());
        case Code::softmax_ce_one_hot:
        case Code::softmax_ce_indices: return softmax_cross_entropy(A(), B());
        case Code::mse: return mean_squared_error(A(), B());
        case Code::count: break;
    }
    throw std::logic_error("unknown code");
}

/// Makes a random program, deciding each op from the values it would see
/// (built at once in float64), so that every op stays in its safe domain:
/// log, sqrt, pow and divisors read positive numbers (≥ 0.2), relu, abs and
/// leaky_relu read numbers at least 0.01 from their kink, exp reads numbers
/// below 4, and every node's entries stay within ±20.
class Generator {
public:
    explicit Generator(std::uint64_t seed) : rng_(seed) {}

    std::vector<Instr> program() {
        const std::size_t ops = 4 + pick(21);
        leaf(Code::parameter, dim(), dim());
        leaf(pick(3) ? Code::parameter : Code::input, dim(), dim());
        leaf(pick(2) ? Code::parameter : Code::input, dim(), dim());
        for (std::size_t k = 0; k < ops; ++k) {
            for (int attempt = 0; attempt < 20; ++attempt) {
                if (step()) break;
            }
        }
        finish();
        return prog_;
    }

private:
    std::mt19937_64 rng_;
    xg::Graph<double> g_;
    std::vector<xg::Var<double>> v_;
    std::vector<Instr> prog_;
    std::vector<int> uses_;

    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
    std::size_t dim() { return 1 + pick(4); }
    double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
    template <class X>
    X one_of(std::initializer_list<X> xs) {
        return *(xs.begin() + pick(xs.size()));
    }
    xg::Shape shape(int i) const { return v_[std::size_t(i)].shape(); }
    const Matrix<double>& value(int i) const { return v_[std::size_t(i)].value(); }
    double min_abs(int i) const { return xt::amin(xt::abs(value(i)))(); }

    Matrix<double> random(std::size_t r, std::size_t c) {
        Matrix<double> m({r, c});
        for (auto& x : m) x = std::normal_distribution<double>(0.0, 1.0)(rng_);
        return m;
    }

    /// Build `in`; keep it unless it throws or leaves the safe range. Returns its index or −1.
    int emit(Instr in, double bound = 20) {
        xg::Var<double> x;
        try {
            x = build(g_, v_, in);
        } catch (const xg::Error&) {
            return -1;
        }
        for (double e : x.value()) {
            if (!(std::fabs(e) <= bound)) return -1;
        }
        if (in.a >= 0) ++uses_[std::size_t(in.a)];
        if (in.b >= 0) ++uses_[std::size_t(in.b)];
        prog_.push_back(std::move(in));
        v_.push_back(x);
        uses_.push_back(0);
        return int(v_.size()) - 1;
    }

    int leaf(Code c, std::size_t r, std::size_t cols) {
        Instr in(c);
        in.value = random(r, cols);
        return emit(std::move(in));
    }
    int unary(Code c, int a, double s = 0) {
        return emit(Instr(c, a, -1, s));
    }
    int binary(Code c, int a, int b) { return emit(Instr(c, a, b)); }

    /// An operand: one of the last three nodes half of the time, else any.
    int operand() {
        const std::size_t n = v_.size();
        return int(pick(2) && n > 3 ? n - 1 - pick(3) : pick(n));
    }

    /// softplus(x) + 0.2 ≥ 0.2: an input for log, sqrt, pow and divisions.
    int positive(int a) {
        if (xt::amin(value(a))() >= 0.2) return a;
        const int s = unary(Code::softplus, a);
        return s < 0 ? -1 : unary(Code::add_s, s, 0.2);
    }

    /// A node whose shape broadcasts with a's (or a new leaf of such a shape).
    int partner(int a) {
        const xg::Shape s = shape(a);
        std::vector<xg::Shape> ok = {s, {s.rows, 1}, {1, s.cols}, {1, 1}};
        if (s.cols == 1) ok.push_back({s.rows, dim()});
        if (s.rows == 1) ok.push_back({dim(), s.cols});
        if (pick(6) == 0) return a;  // the same node twice
        std::vector<int> found;
        for (int i = 0; i < int(v_.size()); ++i) {
            for (const xg::Shape& t : ok) {
                if (shape(i) == t) {
                    found.push_back(i);
                    break;
                }
            }
        }
        if (!found.empty() && pick(3)) return found[pick(found.size())];
        const xg::Shape t = ok[pick(ok.size())];
        return leaf(pick(4) ? Code::parameter : Code::input, t.rows, t.cols);
    }

    /// One random op; false when it could not be placed (the caller tries another).
    bool step() {
        const int a = operand();
        const Code c = static_cast<Code>(int(Code::matmul) + int(pick(int(Code::detach) - int(Code::matmul) + 1)));
        switch (c) {
            case Code::matmul: {
                const std::size_t k = shape(a).cols;
                std::vector<int> found;
                for (int i = 0; i < int(v_.size()); ++i) {
                    if (shape(i).rows == k) found.push_back(i);
                }
                const int b = !found.empty() && pick(2) ? found[pick(found.size())] : leaf(Code::parameter, k, dim());
                return b >= 0 && binary(c, a, b) >= 0;
            }
            case Code::add:
            case Code::sub:
            case Code::mul: {
                int b = partner(a);
                if (b < 0) return false;
                return pick(2) ? binary(c, a, b) >= 0 : binary(c, b, a) >= 0;
            }
            case Code::div: {
                int b = partner(a);
                if (b >= 0 && min_abs(b) < 0.3) b = positive(b);
                return b >= 0 && binary(c, a, b) >= 0;
            }
            case Code::neg:
            case Code::add_s:
            case Code::sub_s:
            case Code::rsub_s:
            case Code::mul_s:
            case Code::div_s:
                return unary(c, a, one_of({-2.0, -0.5, 0.5, 1.5, 3.0})) >= 0;
            case Code::rdiv_s: {
                const int p = min_abs(a) < 0.3 ? positive(a) : a;
                return p >= 0 && unary(c, p, one_of({-2.0, 0.5, 1.0})) >= 0;
            }
            case Code::exp:
                return xt::amax(value(a))() < 4 && unary(c, a) >= 0;
            case Code::log:
            case Code::sqrt: {
                const int p = positive(a);
                return p >= 0 && unary(c, p) >= 0;
            }
            case Code::pow: {
                const double e = one_of({2.0, 3.0, 1.0, -1.0, 0.5, 1.5, -0.5});
                const bool integral = e >= 0 && e == std::floor(e);
                const int p = integral ? a : positive(a);
                return p >= 0 && unary(c, p, e) >= 0;
            }
            case Code::abs:
            case Code::relu:
            case Code::leaky_relu:
                return min_abs(a) > 0.01 && unary(c, a, one_of({0.01, 0.2, -0.3})) >= 0;
            case Code::detach:
                // Only a value no parameter reaches: finite differences see through
                // detach, the reverse sweep does not.
                return !g_.requires_grad(v_[std::size_t(a)].id()) && unary(c, a) >= 0;
            default:
                return unary(c, a) >= 0;
        }
    }

    /// A 1 x 1 loss on node x, of a random kind (−1 when it could not be made).
    int loss(int x) {
        const xg::Shape s = shape(x);
        const bool is_softmax = g_.op(v_[std::size_t(x)].id()) && g_.op(v_[std::size_t(x)].id())->name() == "softmax";
        switch (pick(8)) {
            case 0: {  // weighted sum: Σ (x ⊙ R)
                const int r = leaf(Code::input, s.rows, s.cols);
                const int m = r < 0 ? -1 : binary(Code::mul, x, r);
                return m < 0 ? -1 : unary(Code::sum_all, m);
            }
            case 1: {
                const int t = leaf(Code::input, s.rows, s.cols);
                return t < 0 ? -1 : emit(Instr(Code::mse, x, t), 50);
            }
            case 2:
            case 3:
            case 4: {  // the three forms of binary cross-entropy, on soft labels in [0, 1]
                Instr y(Code::input);
                y.value = Matrix<double>({s.rows, s.cols});
                for (auto& e : y.value) e = pick(3) ? double(pick(2)) : uniform(0, 1);
                const int yl = emit(std::move(y));
                if (yl < 0) return -1;
                if (pick(3) == 0) return emit(Instr(Code::bce_with_logits, x, yl), 50);
                const int p = unary(Code::sigmoid, x);
                if (p < 0) return -1;
                if (pick(2)) return emit(Instr(Code::bce_on_sigmoid, p, yl), 50);
                // Probabilities that are not a sigmoid node: 0.1 + 0.8 σ(x).
                const int q = unary(Code::mul_s, p, 0.8);
                const int r = q < 0 ? -1 : unary(Code::add_s, q, 0.1);
                return r < 0 ? -1 : emit(Instr(Code::bce, r, yl), 50);
            }
            case 5:
            case 6: {
                if (s.rows < 2 || is_softmax) return unary(Code::mean_all, x);
                Instr y(Code::input);
                std::vector<std::size_t> cls(s.cols);
                for (auto& k : cls) k = pick(s.rows);
                if (pick(2)) {
                    y.value = xt::zeros<double>({s.rows, s.cols});
                    for (std::size_t j = 0; j < s.cols; ++j) y.value(cls[j], j) = 1;
                    const int yl = emit(std::move(y));
                    return yl < 0 ? -1 : emit(Instr(Code::softmax_ce_one_hot, x, yl), 50);
                }
                y.value = Matrix<double>({1, s.cols});
                for (std::size_t j = 0; j < s.cols; ++j) y.value(0, j) = double(cls[j]);
                const int yl = emit(std::move(y));
                return yl < 0 ? -1 : emit(Instr(Code::softmax_ce_indices, x, yl), 50);
            }
            default:
                return unary(pick(2) ? Code::sum_all : Code::mean_all, x);
        }
    }

    /// Reduce every op node nothing reads to a loss, and add the losses up.
    void finish() {
        std::vector<int> sinks;
        for (int i = 0; i < int(v_.size()); ++i) {
            if (uses_[std::size_t(i)] == 0 && prog_[std::size_t(i)].code != Code::input &&
                prog_[std::size_t(i)].code != Code::parameter) {
                sinks.push_back(i);
            }
        }
        if (sinks.empty()) sinks.push_back(0);
        int total = -1;
        for (int x : sinks) {
            int l = -1;
            for (int attempt = 0; attempt < 10 && l < 0; ++attempt) l = loss(x);
            if (l < 0) l = unary(Code::mean_all, x);
            if (l < 0) continue;
            if (total < 0) {
                total = l;
            } else {
                const int t = emit(Instr(Code::add, total, l), 50);
                if (t >= 0) total = t;
            }
        }
        if (total < 0) total = emit(Instr(Code::sum_all, int(v_.size()) - 1), 1e6);
        // The last node is the loss.
        if (total != int(v_.size()) - 1) emit(Instr(Code::add_s, total, -1, 0.0), 1e6);
    }
};

template <class T>
struct Built {
    xg::Graph<T> g;
    std::vector<xg::Var<T>> v;
};

template <class T>
void build_all(Built<T>& b, const std::vector<Instr>& prog) {
    for (const Instr& in : prog) b.v.push_back(build(b.g, b.v, in));
}

struct Outcome {
    bool ok = true;
    double max_rel_err = 0;   // float64 gradient vs finite differences
    double max_f32_err = 0;   // float32 gradient vs float64, relative to max(1, |gradient|)
    std::string report;
};

Outcome check_one(std::uint64_t seed, std::map<Code, int>& coverage) {
    Generator gen(seed);
    const std::vector<Instr> prog = gen.program();
    for (const Instr& in : prog) ++coverage[in.code];
    Built<double> d;
    build_all(d, prog);
    const xg::Var<double> J = d.v.back();
    Outcome o;
    const xg::GradCheckReport r = xg::check_gradients(d.g, J);
    o.ok = r.ok() && !r.entries.empty();
    o.max_rel_err = r.max_rel_err();
    // The same program in float32: each gradient within 1e-3 of float64's.
    Built<float> f;
    build_all(f, prog);
    f.g.backward(f.v.back());
    d.g.backward(J);
    for (std::size_t i = 0; i < prog.size(); ++i) {
        if (prog[i].code != Code::parameter) continue;
        if (!d.g.has_grad(d.v[i].id())) {
            if (f.g.has_grad(f.v[i].id())) o.ok = false;
            continue;
        }
        const Matrix<double>& g64 = d.v[i].grad();
        const Matrix<float>& g32 = f.v[i].grad();
        double scale = 1;
        for (double x : g64) scale = std::max(scale, std::fabs(x));
        for (std::size_t k = 0; k < g64.size(); ++k) {
            o.max_f32_err = std::max(o.max_f32_err, std::fabs(double(g32.data()[k]) - g64.data()[k]) / scale);
        }
    }
    if (!(o.max_f32_err <= 1e-3)) o.ok = false;
    if (!o.ok || std::getenv("XGRAD_RANDOM_GRAPH_SEED")) {
        xg::ExplainOptions e;
        e.shapes = true;
        e.all_nodes = true;
        o.report = "seed " + std::to_string(seed) + ": " + std::to_string(d.g.size()) + " nodes\n" +
                   xg::explain(J, e) + r.str() + "\nfloat32 vs float64: max error " +
                   std::to_string(o.max_f32_err) + "\n";
    }
    return o;
}

}  // namespace

TEST_CASE("1000 random graphs of the whole op set: gradients match float64 finite differences") {
    std::uint64_t first = 1, count = 1000;
    if (const char* s = std::getenv("XGRAD_RANDOM_GRAPH_SEED")) {
        first = std::strtoull(s, nullptr, 10);
        count = 1;
    }
    std::map<Code, int> coverage;
    std::size_t failures = 0, nodes = 0;
    double worst = 0, worst32 = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        const Outcome o = check_one(seed, coverage);
        worst = std::max(worst, o.max_rel_err);
        worst32 = std::max(worst32, o.max_f32_err);
        if (!o.report.empty()) std::printf("%s\n", o.report.c_str());
        if (!o.ok) {
            ++failures;
            FAIL_CHECK("random graph failed, seed " << seed << " (rerun: XGRAD_RANDOM_GRAPH_SEED=" << seed << ")");
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& [c, n] : coverage) nodes += std::size_t(n);
    std::printf("random graphs: %llu graphs, %zu nodes, %zu failures, worst gradient-check error %.2g, "
                "worst float32 gradient error %.2g, %.2f s\n",
                (unsigned long long)count, nodes, failures, worst, worst32, secs);
    std::printf("op coverage:");
    for (int c = 0; c < int(Code::count); ++c) std::printf(" %s %d;", code_name(Code(c)), coverage[Code(c)]);
    std::printf("\n");
    CHECK(failures == 0);
    if (count > 1) {
        // Every op and every form of a loss appears many times.
        for (int c = 0; c < int(Code::count); ++c) {
            CAPTURE(code_name(Code(c)));
            CHECK(coverage[Code(c)] >= 20);
        }
    }
}
