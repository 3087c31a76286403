// libFuzzer harness: bytes become a small graph program — leaves of up to
// 8 x 8 with values from the bytes (NaN, ±Inf, ±1e300, denormals and raw
// doubles included), ops on earlier nodes chosen from the op table
// (tests/op_table.hpp: every op of ops.hpp, every spelling, the fuzz bytes
// giving its number), new input values and new parameter values of other
// shapes, forward(), backward() on any node, the numeric-debug mode,
// explain, to_dot and the gradient checker. A user's mistake may raise an
// xg::Error (that is the contract, and the program goes on with the same
// graph); anything else — a crash, another exception, a sanitizer report, a
// leak, a broken invariant — is a finding.
//
// The bytes, read in order (a missing byte reads as 0):
//   flags     bit 0: float32 (else float64); bit 1: numeric-debug mode on
//   then up to 64 instructions, each an opcode byte (mod 20) and its operands:
//   0 input        rows cols values…   rows, cols: byte mod 9 (0 makes an empty matrix);
//                                      an odd rows byte / 9 makes an input that carries a gradient
//   1 parameter    rows cols values…
//   2 reuse        k                   the k-th Parameter again (the same leaf)
//   3 op           row form nodes… [number]   row: byte mod the rows of the op table;
//                                      form: byte mod the row's spellings; one node per
//                                      input; a number when the row takes one
//   4 op by name   length chars… form nodes… [number]   the row of that name (any
//                                      other name: a row picked by its hash)
//   5 set_value    k rows cols values… the k-th input gets new data
//   6 set param    k rows cols values… the k-th Parameter gets a new value (not empty)
//   7 forward
//   8 backward     node mode           mode bit 0: accumulate
//   9 numerics     on                  bit 0
//   10 read        node                value, shape, name; the gradient if there is one
//   11 explain     node options        bit 0: to_dot; bits 1-2: style; bit 3: shapes; bit 4: all nodes
//   12 gradcheck                       float64 graphs with at most 24 parameter entries
//   13 name        node length chars…
//   14 loss        length chars… node   a row whose output is 1 x 1 (named, or by hash) on
//                                      the node, its labels and targets new inputs of
//                                      the shapes it takes, drawn from the row's domain
//   15 backward on the last node
//   16 op, allocation failing  k  then as 3: the k-th allocation (k = byte + 1) of the build
//                                      throws std::bad_alloc; the graph must stay as it was
//   17 absurd shape            a b  a user-defined op declaring 2^(a mod 62) x 2^(62 - a mod 62 + b mod 2)
//                                      on the last node: a ShapeError, nothing allocated, nothing added
//   18 accept changed leaves
//   19 image op    kind C H W k stride padding nodes…   kind mod 6: conv2d(X, K), conv2d(X, K, b),
//                                      max_pool2d(X), avg_pool2d(X), and conv2d(X, K), conv2d(X, K, b)
//                                      by Winograd (ConvAlgorithm::winograd); C, H, W: byte mod 9, k byte mod 5,
//                                      stride and padding byte mod 4 (zeros and misfits included);
//                                      the window is k, the padding unused, for pooling
// After every backward() that returns, no leaf the loss reads may have taken a
// new value (set_value, write access to a parameter) since the last forward():
// the harness keeps its own record of the leaves it changed.
// A node operand is a byte mod the number of nodes; a number is one of a
// table of awkward values (byte < 224) or the next 8 bytes as a double.
// fuzz/make_corpus.py writes the seed programs of fuzz/corpus/graph in this format.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "fail_alloc.hpp"  // replaces operator new: builds whose k-th allocation fails
#include "op_table.hpp"

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

    /// A length byte (mod 48) and that many characters.
    std::string text() {
        std::string s;
        for (std::size_t k = below(48); k > 0; --k) s += char(u8());
        return s;
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
            const int op = in_.u8() % 20;
            try {
                step(op);
            } catch (const xg::Error&) {
                // The contract for a mistake.
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
    // Leaves given a new value since the last forward(), by node id; `known_`
    // is false after a call that may or may not have replayed the graph.
    std::set<std::uint32_t> changed_;
    bool known_ = true;

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
                if (have()) apply(xgt::op_table::rows()[in_.below(xgt::op_table::rows().size())]);
                break;
            case 4:
                if (have()) apply(named_row(in_.text(), false));
                break;
            case 5:
                if (!inputs_.empty()) {
                    const xg::Var<T> x = inputs_[in_.below(inputs_.size())];
                    g_.set_value(x, matrix(true));
                    changed_.insert(x.id());
                }
                break;
            case 6:
                if (!params_.empty()) {
                    // Any shape, empty too: building on it before forward() is refused,
                    // and forward() refuses an empty one.
                    xg::Parameter<T> p = params_[in_.below(params_.size())];
                    const xg::Matrix<T>* storage = &std::as_const(p).value();
                    p.value() = matrix(true);
                    for (std::uint32_t id = 0; id < g_.size(); ++id) {
                        if (g_.kind(id) != xg::NodeKind::parameter) continue;
                        const xg::Parameter<T> q = g_.parameter_of(id);
                        if (&q.value() == storage) changed_.insert(id);
                    }
                }
                break;
            case 7:
                known_ = false;
                g_.forward();
                changed_.clear();
                known_ = true;
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
                    const xgt::op_table::Row& r = named_row(in_.text(), true);
                    loss(r, node());
                }
                break;
            case 15:
                if (have()) backward(v_.back(), false);
                break;
            case 16:
                if (have()) {
                    const long k = long(in_.u8()) + 1;
                    const xgt::op_table::Row& r = xgt::op_table::rows()[in_.below(xgt::op_table::rows().size())];
                    apply(r, k);
                }
                break;
            case 17:
                if (have()) absurd(in_.u8() % 62, in_.u8() % 2);
                break;
            case 18:
                g_.accept_changed_leaves();
                changed_.clear();
                known_ = true;
                break;
            case 19:
                if (have()) image_op();
                break;
        }
    }

    /// A conv2d or pooling whose geometry comes from the bytes: most
    /// geometries do not fit the nodes and must be refused with a
    /// ShapeError that adds no node.
    void image_op() {
        const std::size_t kind = in_.below(6);
        const xg::ImageShape im{in_.below(9), in_.below(9), in_.below(9)};
        const std::size_t k = in_.below(5), stride = in_.below(4), pad = in_.below(4);
        const std::size_t before = g_.size();
        try {
            if (kind <= 1 || kind >= 4) {
                const xg::Var<T> x = node(), w = node();
                const xg::Conv2dSpec spec{im, k, stride, pad,
                                          kind >= 4 ? xg::ConvAlgorithm::winograd : xg::ConvAlgorithm::automatic};
                if (kind % 2 == 0) {
                    conv2d(x, w, spec);
                } else {
                    conv2d(x, w, node(), spec);
                }
            } else {
                const xg::Var<T> x = node();
                const xg::Pool2dSpec spec{im, k, stride};
                if (kind == 2) {
                    max_pool2d(x, spec);
                } else {
                    avg_pool2d(x, spec);
                }
            }
        } catch (const xg::Error&) {
            if (g_.size() != before) broken("a refused image op added a node");
            throw;
        }
    }

    /// An op that declares a shape of 2^a x 2^b and never runs.
    class Absurd final : public xg::Op<T> {
    public:
        Absurd(unsigned a, unsigned b) : a_(a), b_(b) {}
        std::string name() const override { return "absurd"; }
        xg::Shape shape(const xg::ShapeContext&) const override { return {std::size_t(1) << a_, std::size_t(1) << b_}; }
        void forward(const xg::ForwardContext<T>&) const override { broken("an absurd shape was allocated and run"); }
        void backward(xg::BackwardContext<T>&) const override {}
        xg::sym::Expr formula() const override { return xg::sym::in(0); }
        xg::sym::Expr grad_formula(std::size_t) const override { return xg::sym::grad(); }

    private:
        unsigned a_, b_;
    };

    /// 2^a x 2^(62 - a + extra) entries: at least 2^62 entries, 2^64 bytes and more.
    void absurd(unsigned a, unsigned extra) {
        const unsigned b = 62 - a + extra;
        const std::size_t before = g_.size();
        try {
            g_.apply(std::make_shared<const Absurd>(a, b), {v_.back()});
        } catch (const xg::ShapeError&) {
            if (g_.size() != before) broken("a refused shape added a node");
            return;
        }
        broken("a shape of more bytes than any machine has was accepted");
    }

    /// The row called `name`, or one picked by the name's hash (among the
    /// rows whose output is 1 x 1 when `scalar`).
    static const xgt::op_table::Row& named_row(const std::string& name, bool scalar) {
        std::vector<const xgt::op_table::Row*> rows;
        for (const xgt::op_table::Row& r : xgt::op_table::rows()) {
            if (scalar && !r.scalar) continue;
            if (r.name == name) return r;
            rows.push_back(&r);
        }
        return *rows[std::hash<std::string>()(name) % rows.size()];
    }

    /// Row r on nodes from the bytes, with the number from the bytes when it
    /// takes one; when fail_at is k > 0, the k-th allocation of the build
    /// throws std::bad_alloc.
    void apply(const xgt::op_table::Row& r, long fail_at = 0) {
        const std::size_t form = in_.below(r.forms.size());
        std::vector<xg::Var<T>> leaves;
        for (std::size_t i = 0; i < r.arity(); ++i) leaves.push_back(node());
        xgt::op_table::Attr a = r.attr;
        if (r.takes_number) a.number = in_.number();
        const std::vector<xg::Var<T>> in = r.operands(leaves);  // σ(Z) first for the fused loss
        const std::size_t before = g_.size();
        std::vector<xg::Matrix<T>> values;
        if (fail_at > 0) {
            for (std::uint32_t id = 0; id < before; ++id) values.push_back(g_.value(id));
        }
        try {
            xgt::fail_alloc::arm(fail_at);
            r.forms[form](in, a);
            xgt::fail_alloc::disarm();
        } catch (const std::bad_alloc&) {
            xgt::fail_alloc::disarm();
            if (fail_at == 0) throw;
            if (g_.size() != before) broken("a build that ran out of memory added a node");
            for (std::uint32_t id = 0; id < before; ++id) {
                const xg::Matrix<T>& now = g_.value(id);
                if (now.shape() != values[id].shape() ||
                    (now.size() > 0 && std::memcmp(now.data(), values[id].data(), now.size() * sizeof(T)) != 0)) {
                    broken("a build that ran out of memory changed a value");
                }
            }
        } catch (const xg::Error&) {
            xgt::fail_alloc::disarm();
            if (g_.size() != before) broken("a failed build added a node");  // a build that fails adds nothing
            throw;
        }
    }

    /// Row r (a 1 x 1 output) on x, its other inputs new leaves of the shapes
    /// the row takes with x first, drawn from the row's domains.
    void loss(const xgt::op_table::Row& r, xg::Var<T> x) {
        const std::vector<xgt::op_table::Dims> ds = xgt::op_table::dims_for(r, 0, x.shape(), 8);
        if (ds.empty()) return;
        const std::vector<xg::Shape> shapes = r.shapes(ds.front());
        xgt::op_table::Rng rng(g_.size());
        std::vector<xg::Var<T>> leaves{x};
        for (std::size_t i = 1; i < r.arity(); ++i) {
            leaves.push_back(g_.input(xt::cast<T>(r.domains[i].sample(shapes, i, rng)), "y" + std::to_string(g_.size())));
        }
        r.build(leaves, r.attr);
    }

    void backward(xg::Var<T> loss, bool accumulate) {
        g_.backward(loss, accumulate ? xg::GradMode::accumulate : xg::GradMode::overwrite);
        if (known_ && !changed_.empty()) {
            // The leaves the loss reads: none may have changed since the last forward().
            std::vector<std::uint32_t> stack{loss.id()};
            std::set<std::uint32_t> seen;
            while (!stack.empty()) {
                const std::uint32_t id = stack.back();
                stack.pop_back();
                if (!seen.insert(id).second) continue;
                if (changed_.count(id)) broken("backward() ran on values computed before a leaf changed");
                for (std::uint32_t in : g_.inputs(id)) stack.push_back(in);
            }
        }
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
            known_ = false;  // the checker runs forward() once it has checked its arguments
            const xg::GradCheckReport r = xg::check_gradients(g_, v_.back());
            (void)r.str();
            changed_.clear();
            known_ = true;
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
