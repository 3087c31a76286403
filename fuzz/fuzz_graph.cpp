// libFuzzer harness: bytes become a small graph program — leaves of up to
// 8 x 8 with values from the bytes (NaN, ±Inf, ±1e300, denormals and raw
// doubles included), ops on earlier nodes, new input values and new
// parameter values of other shapes, forward(), backward() on any node,
// the numeric-debug mode, explain, to_dot and the gradient checker. A user's
// mistake may raise an xg::Error (that is the contract, and the program goes
// on with the same graph); anything else — a crash, another exception, a
// sanitizer report, a leak, a broken invariant — is a finding.
//
// The bytes, read in order (a missing byte reads as 0):
//   flags     bit 0: float32 (else float64); bit 1: numeric-debug mode on
//   then up to 64 instructions, each an opcode byte (mod 16) and its operands:
//   0 input        rows cols values…   rows, cols: byte mod 9 (0 makes an empty matrix);
//                                      an odd rows byte / 9 makes an input that carries a gradient
//   1 parameter    rows cols values…
//   2 reuse        k                   the k-th Parameter again (the same leaf)
//   3 unary        kind node [number]  kind mod 24: see unary() below
//   4 binary       kind node node      kind mod 9: see binary() below
//   5 set_value    k rows cols values… the k-th input gets new data
//   6 set param    k rows cols values… the k-th Parameter gets a new value (not empty)
//   7 forward
//   8 backward     node mode           mode bit 0: accumulate
//   9 numerics     on                  bit 0
//   10 read        node                value, shape, name; the gradient if there is one
//   11 explain     node options        bit 0: to_dot; bits 1-2: style; bit 3: shapes; bit 4: all nodes
//   12 gradcheck                       float64 graphs with at most 24 parameter entries
//   13 name        node length chars…
//   14 loss        kind node           kind mod 4: sum, mean, BCE on a sigmoid, softmax CE against class 0
//   15 backward on the last node
// A node operand is a byte mod the number of nodes; a number is one of a
// table of awkward values (byte < 224) or the next 8 bytes as a double.
// fuzz/make_corpus.py writes the seed programs of fuzz/corpus/graph in this format.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace {

class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : d_(data), n_(size) {}
    bool done() const { return i_ >= n_; }
    std::uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
    std::size_t below(std::size_t k) { return k ? u8() % k : 0; }

    double number() {
        static const double table[] = {0,     1,     -1,      0.5,     -0.5,   2,      -2,     3,
                                       0.25,  1.5,   -3,      10,      -10,    40,     -40,    100,
                                       1000,  -1000, 1e6,     -1e6,    1e300,  -1e300, 1e-300, -1e-300,
                                       5e-324, 1e-8, 0.999999, 710,    -745,   3.5e38, 1e-45,  -0.0,
                                       NAN,   INFINITY, -INFINITY};
        constexpr std::size_t n = sizeof table / sizeof table[0];
        const std::uint8_t b = u8();
        if (b < 224) return table[b % n];
        double v = 0;
        unsigned char raw[8] = {};
        for (unsigned char& c : raw) c = u8();
        std::memcpy(&v, raw, sizeof v);
        return v;
    }

private:
    const std::uint8_t* d_;
    std::size_t n_;
    std::size_t i_ = 0;
};

/// A broken promise of the library: stop with a clear line (libFuzzer saves the input).
[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "xgrad fuzz: invariant broken: %s\n", what);
    std::abort();
}

template <class T>
class Program {
public:
    Program(Bytes& in, bool numerics) : in_(in) { g_.check_numerics(numerics); }

    void run() {
        for (int steps = 0; steps < 64 && !in_.done(); ++steps) {
            const std::size_t before = g_.size();
            const int op = in_.u8() % 16;
            try {
                step(op);
            } catch (const xg::Error&) {
                // The contract for a mistake. A build that failed added nothing.
                if ((op == 3 || op == 4) && g_.size() != before) broken("a failed build added a node");
            }
            // Handles for every node made (a loss helper makes two or three).
            while (v_.size() < g_.size()) v_.push_back(g_.var(std::uint32_t(v_.size())));
        }
    }

private:
    Bytes& in_;
    xg::Graph<T> g_;
    std::vector<xg::Var<T>> v_;            // every node, in creation order
    std::vector<xg::Var<T>> inputs_;
    std::vector<xg::Parameter<T>> params_;
    bool wants_grad_ = false;  // the last rows byte asked for an input with a gradient

    xg::Matrix<T> matrix(bool allow_empty) {
        const std::uint8_t rows = in_.u8();
        wants_grad_ = (rows / 9) & 1;
        std::size_t r = rows % 9, c = in_.below(9);
        if (!allow_empty) {
            r = r ? r : 1;
            c = c ? c : 1;
        }
        xg::Matrix<T> m({r, c});
        for (T& x : m) x = static_cast<T>(in_.number());
        return m;
    }

    bool have() const { return !v_.empty(); }
    xg::Var<T> node() { return v_[in_.below(v_.size())]; }

    void step(int op) {
        switch (op) {
            case 0: {
                xg::Matrix<T> m = matrix(true);
                inputs_.push_back(g_.input(m, "x" + std::to_string(v_.size()), wants_grad_));
                break;
            }
            case 1: {
                const xg::Var<T> p = g_.parameter(matrix(true), "p" + std::to_string(v_.size()));
                params_.push_back(g_.parameter_of(p.id()));
                break;
            }
            case 2:
                if (!params_.empty()) g_.parameter(params_[in_.below(params_.size())]);
                break;
            case 3:
                if (have()) {
                    const std::size_t kind = in_.below(24);  // operands in byte order
                    unary(kind, node());
                }
                break;
            case 4:
                if (have()) {
                    const std::size_t kind = in_.below(9);
                    const xg::Var<T> a = node(), b = node();
                    binary(kind, a, b);
                }
                break;
            case 5:
                if (!inputs_.empty()) {
                    const xg::Var<T> x = inputs_[in_.below(inputs_.size())];
                    g_.set_value(x, matrix(true));
                }
                break;
            case 6:
                if (!params_.empty()) {
                    // Any shape, empty too: building on it before forward() is refused,
                    // and forward() refuses an empty one.
                    xg::Parameter<T> p = params_[in_.below(params_.size())];
                    p.value() = matrix(true);
                }
                break;
            case 7:
                g_.forward();
                for (std::uint32_t id = 0; id < g_.size(); ++id) {
                    if (xg::shape_of(g_.value(id)) != g_.shape(id)) broken("a value's shape differs from its node's");
                }
                break;
            case 8:
                if (have()) {
                    const xg::Var<T> x = node();
                    backward(x, in_.u8() & 1);
                }
                break;
            case 9:
                g_.check_numerics(in_.u8() & 1);
                break;
            case 10:
                if (have()) read(node());
                break;
            case 11:
                if (have()) {
                    const xg::Var<T> x = node();
                    explain(x, in_.u8());
                }
                break;
            case 12:
                gradcheck();
                break;
            case 13:
                if (have()) {
                    const xg::Var<T> x = node();
                    std::string name;
                    for (std::size_t k = in_.below(12); k > 0; --k) name += char(in_.u8());
                    x.named(name);
                }
                break;
            case 14:
                if (have()) {
                    const std::size_t kind = in_.below(4);
                    loss(kind, node());
                }
                break;
            case 15:
                if (have()) backward(v_.back(), false);
                break;
        }
    }

    xg::Var<T> unary(std::size_t kind, xg::Var<T> x) {
        switch (kind) {
            case 0: return -x;
            case 1: return exp(x);
            case 2: return log(x);
            case 3: return square(x);
            case 4: return pow(x, in_.number());
            case 5: return sqrt(x);
            case 6: return abs(x);
            case 7: return sigmoid(x);
            case 8: return tanh(x);
            case 9: return relu(x);
            case 10: return leaky_relu(x, in_.number());
            case 11: return softplus(x);
            case 12: return softmax(x);
            case 13: return sum(x, xg::Axis(in_.below(3)));
            case 14: return mean(x, xg::Axis(in_.below(3)));
            case 15: return transpose(x);
            case 16: return detach(x);
            case 17: return x + in_.number();
            case 18: return x - in_.number();
            case 19: return in_.number() - x;
            case 20: return in_.number() * x;
            case 21: return x / in_.number();
            case 22: return in_.number() / x;
            default: return x;
        }
    }

    xg::Var<T> binary(std::size_t kind, xg::Var<T> a, xg::Var<T> b) {
        switch (kind) {
            case 0: return matmul(a, b);
            case 1: return a + b;
            case 2: return a - b;
            case 3: return a * b;
            case 4: return a / b;
            case 5: return binary_cross_entropy(a, b);
            case 6: return binary_cross_entropy_with_logits(a, b);
            case 7: return softmax_cross_entropy(a, b);
            default: return mean_squared_error(a, b);
        }
    }

    xg::Var<T> loss(std::size_t kind, xg::Var<T> x) {
        const xg::Shape s = x.shape();
        switch (kind) {
            case 0: return sum(x);
            case 1: return mean(x);
            case 2: return binary_cross_entropy(sigmoid(x), g_.input(xg::Matrix<T>(xt::ones<T>({s.rows, s.cols})), "Y"));
            default: return softmax_cross_entropy(x, g_.input(xg::Matrix<T>(xt::zeros<T>({std::size_t(1), s.cols})), "y"));
        }
    }

    void backward(xg::Var<T> loss, bool accumulate) {
        g_.backward(loss, accumulate ? xg::GradMode::accumulate : xg::GradMode::overwrite);
        for (std::uint32_t id = 0; id < g_.size(); ++id) {
            if (g_.has_grad(id) && xg::shape_of(g_.grad(id)) != g_.shape(id)) broken("a gradient's shape differs from its node's");
        }
    }

    void read(xg::Var<T> x) {
        volatile T sink = 0;
        const xg::Matrix<T>& v = x.value();
        for (T e : v) sink = sink + e;
        (void)x.shape();
        (void)x.name();
        if (g_.has_grad(x.id())) {
            for (T e : x.grad()) sink = sink + e;
        }
    }

    void explain(xg::Var<T> x, std::uint8_t options) {
        std::string text;
        if (options & 1) {
            xg::DotOptions o;
            o.shapes = options & 8;
            o.gradients = !(options & 16);
            text = xg::to_dot(x, o);
        } else {
            xg::ExplainOptions o;
            o.style = xg::sym::Style((options >> 1) % 3);
            o.shapes = options & 8;
            o.all_nodes = options & 16;
            text = xg::explain(x, o);
        }
        if (text.empty()) broken("explain printed nothing");
    }

    void gradcheck() {
        if constexpr (std::is_same<T, double>::value) {
            std::size_t entries = 0;
            for (const auto& p : g_.parameters()) entries += p.value().size();
            if (!have() || entries > 24 || g_.size() > 48) return;
            const xg::GradCheckReport r = xg::check_gradients(g_, v_.back());
            (void)r.str();
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes in(data, size);
    const std::uint8_t flags = in.u8();
    if (flags & 1) {
        Program<float>(in, flags & 2).run();
    } else {
        Program<double>(in, flags & 2).run();
    }
    return 0;
}
