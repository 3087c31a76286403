// Random graphs: hundreds of seeded random graphs whose ops are drawn from the
// op table (tests/op_table.hpp), each row's shapes and safe domain deciding
// its operands, reduced to a scalar loss; every parameter's gradient is
// checked against float64 central finite differences, and the float32 build
// of the same graph against the float64 one.
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
#include "op_table.hpp"

using xg::Matrix;
namespace ot = xgt::op_table;

namespace {

/// One node of a program: a leaf, or a row of the op table on earlier nodes.
struct Instr {
    enum class Kind { input, parameter, op };
    Kind kind = Kind::op;
    std::size_t row = 0;    // the op table row
    std::size_t form = 0;   // which of its spellings
    ot::Attr attr;          // its number
    std::vector<int> args;  // earlier nodes, one per input
    Matrix<double> value;   // a leaf's value
};

/// Build the node of `in` on `g`, whose earlier nodes are `v`.
template <class T>
xg::Var<T> build(xg::Graph<T>& g, const std::vector<xg::Var<T>>& v, const Instr& in) {
    const std::string id = std::to_string(v.size());
    switch (in.kind) {
        case Instr::Kind::input: return g.input(xt::cast<T>(in.value), "x" + id);
        case Instr::Kind::parameter: return g.parameter(Matrix<T>(xt::cast<T>(in.value)), "p" + id);
        case Instr::Kind::op: break;
    }
    std::vector<xg::Var<T>> args;
    for (int a : in.args) args.push_back(v.at(std::size_t(a)));
    return ot::rows().at(in.row).build(args, in.attr, in.form);
}

std::size_t row_index(const std::string& name) {
    const ot::Row& r = ot::row(name);
    return std::size_t(&r - ot::rows().data());
}

/// Makes a random program, deciding each op from the values it would see
/// (built at once in float64): a row of the table is drawn, its first
/// operand is a recent node of a shape the row accepts, its other operands
/// are nodes or new leaves of the shapes the row asks for, every operand lies
/// in the row's domain (a node outside is moved in — softplus(x) + 0.2 for a
/// positive domain, 0.1 + 0.8 σ(x) for probabilities — or another op is
/// drawn), labels are new data leaves, and every node's entries stay within ±20.
class Generator {
public:
    explicit Generator(std::uint64_t seed) : rng_(seed) {}

    std::vector<Instr> program() {
        const std::size_t ops = 4 + pick(21);
        leaf(Instr::Kind::parameter, random(dim(), dim()));
        leaf(pick(3) ? Instr::Kind::parameter : Instr::Kind::input, random(dim(), dim()));
        leaf(pick(2) ? Instr::Kind::parameter : Instr::Kind::input, random(dim(), dim()));
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
    xg::Shape shape(int i) const { return v_[std::size_t(i)].shape(); }
    const Matrix<double>& value(int i) const { return v_[std::size_t(i)].value(); }

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
        for (int a : in.args) ++uses_[std::size_t(a)];
        prog_.push_back(std::move(in));
        v_.push_back(x);
        uses_.push_back(0);
        return int(v_.size()) - 1;
    }

    int leaf(Instr::Kind kind, Matrix<double> value) {
        Instr in;
        in.kind = kind;
        in.value = std::move(value);
        return emit(std::move(in));
    }

    /// Row `row` on `args`, with its own number or `number`.
    int op(std::size_t row, std::vector<int> args, std::optional<double> number = {}, double bound = 20) {
        const ot::Row& r = ot::rows()[row];
        Instr in;
        in.row = row;
        in.form = pick(r.forms.size());
        in.attr = r.attr;
        if (number) in.attr.number = *number;
        in.args = std::move(args);
        return emit(std::move(in), r.out == "J" ? std::max(bound, 50.0) : bound);
    }

    /// An operand: one of the last three nodes half of the time, else any.
    int operand() {
        const std::size_t n = v_.size();
        return int(pick(2) && n > 3 ? n - 1 - pick(3) : pick(n));
    }

    /// Node `a` moved into domain `d`, or −1 when it cannot be.
    int into(int a, const ot::Domain& d) {
        if (a < 0 || d.contains(value(a))) return a;
        using K = ot::Domain::Kind;
        if (d.kind == K::positive || d.kind == K::nonzero) {  // softplus(x) + 0.2 ≥ 0.2
            const int s = op(row_index("softplus"), {a});
            return s < 0 ? -1 : op(row_index("x_plus_s"), {s}, 0.2);
        }
        if (d.kind == K::probability) {  // 0.1 + 0.8 σ(x), in (0.1, 0.9), not a sigmoid node
            const int s = op(row_index("sigmoid"), {a});
            const int t = s < 0 ? -1 : op(row_index("s_times_x"), {s}, 0.8);
            return t < 0 ? -1 : op(row_index("x_plus_s"), {t}, 0.1);
        }
        return -1;
    }

    /// A node for input i of row r, whose inputs have `shapes`: new data for
    /// labels; for an input that takes no gradient, a node no parameter
    /// reaches (finite differences see through detach, the reverse sweep does
    /// not); otherwise a node of that shape, or a new leaf; moved into the domain.
    int operand_for(const ot::Row& r, std::size_t i, const std::vector<xg::Shape>& shapes, int first) {
        const ot::Domain& d = r.domains[i];
        if (d.data()) return leaf(Instr::Kind::input, d.sample(shapes, i, rng_));
        const bool grad = r.differentiable[i];
        if (i > 0 && grad && first >= 0 && shape(first) == shapes[i] && pick(6) == 0) return first;  // the same node twice
        std::vector<int> found;
        for (int n = 0; n < int(v_.size()); ++n) {
            if (shape(n) == shapes[i] && (grad || !g_.requires_grad(v_[std::size_t(n)].id()))) found.push_back(n);
        }
        int a;
        if (!found.empty() && pick(3)) {
            a = found[pick(found.size())];
        } else {
            a = leaf(grad && pick(4) ? Instr::Kind::parameter : Instr::Kind::input, d.sample(shapes, i, rng_));
        }
        return grad ? into(a, d) : (a >= 0 && d.contains(value(a)) ? a : -1);
    }

    /// Row r with node `a` as its first operand when the row takes its shape
    /// (else, unless `must_use_a`, on nodes of shapes it takes). Returns the node or −1.
    int apply_row(std::size_t row, int a, bool must_use_a = false) {
        const ot::Row& r = ot::rows()[row];
        std::vector<ot::Dims> ds;
        if (a >= 0 && !r.domains[0].data()) ds = ot::dims_for(r, 0, shape(a));
        // An input that takes no gradient reads a node no parameter reaches.
        const bool keep_a = !ds.empty() && (r.differentiable[0] || !g_.requires_grad(v_[std::size_t(a)].id()));
        if (must_use_a && !keep_a) return -1;
        const ot::Dims d = keep_a ? ds[pick(ds.size())] : ot::Dims{dim(), dim(), dim()};
        const std::vector<xg::Shape> shapes = r.shapes(d);
        std::vector<int> args;
        for (std::size_t i = 0; i < r.arity(); ++i) {
            const int x = i == 0 && keep_a ? (r.differentiable[0] ? into(a, r.domains[0]) : a) : operand_for(r, i, shapes, args.empty() ? -1 : args[0]);
            if (x < 0) return -1;
            if (i == 0 && !r.domains[0].data() && !r.domains[0].contains(value(x))) return -1;
            args.push_back(x);
        }
        return op(row, args);
    }

    /// One random op; false when it could not be placed (the caller tries another).
    bool step() { return apply_row(pick(ot::rows().size()), operand()) >= 0; }

    /// A 1 x 1 loss on node x: a weighted sum Σ (x ⊙ R), or a row of the
    /// table whose output is 1 x 1 (a loss, Σ, mean) taking x first.
    int loss(int x) {
        static const std::vector<std::size_t> scalar_rows = [] {
            std::vector<std::size_t> s;
            for (std::size_t k = 0; k < ot::rows().size(); ++k) {
                if (ot::rows()[k].scalar) s.push_back(k);
            }
            return s;
        }();
        const std::size_t k = pick(scalar_rows.size() + 1);
        if (k == scalar_rows.size()) {
            const int r = leaf(Instr::Kind::input, random(shape(x).rows, shape(x).cols));
            const int m = r < 0 ? -1 : op(row_index("mul"), {x, r});
            return m < 0 ? -1 : op(row_index("sum (all)"), {m});
        }
        return apply_row(scalar_rows[k], x, true);
    }

    /// Reduce every op node nothing reads to a loss, and add the losses up.
    void finish() {
        std::vector<int> sinks;
        for (int i = 0; i < int(v_.size()); ++i) {
            if (uses_[std::size_t(i)] == 0 && prog_[std::size_t(i)].kind == Instr::Kind::op) sinks.push_back(i);
        }
        if (sinks.empty()) sinks.push_back(0);
        int total = -1;
        for (int x : sinks) {
            int l = -1;
            for (int attempt = 0; attempt < 10 && (l < 0 || shape(l) != xg::Shape{1, 1}); ++attempt) l = loss(x);
            if (l < 0 || shape(l) != xg::Shape{1, 1}) l = op(row_index("mean (all)"), {x});
            if (l < 0) continue;
            if (total < 0) {
                total = l;
            } else {
                const int t = op(row_index("add"), {total, l}, {}, 50);
                if (t >= 0) total = t;
            }
        }
        if (total < 0) total = op(row_index("sum (all)"), {int(v_.size()) - 1}, {}, 1e6);
        // The last node is the loss.
        if (total != int(v_.size()) - 1) op(row_index("x_plus_s"), {total}, 0.0, 1e6);
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
    double max_rel_err = 0;  // float64 gradient vs finite differences
    double max_f32_err = 0;  // float32 gradient vs float64, relative to max(1, |gradient|)
    std::string report;
};

Outcome check_one(std::uint64_t seed, std::map<std::size_t, int>& coverage, std::size_t& nodes) {
    Generator gen(seed);
    const std::vector<Instr> prog = gen.program();
    for (const Instr& in : prog) {
        if (in.kind == Instr::Kind::op) ++coverage[in.row];
    }
    Built<double> d;
    build_all(d, prog);
    nodes += d.g.size();
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
        if (prog[i].kind != Instr::Kind::parameter) continue;
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

TEST_CASE("1000 random graphs drawn from the op table: gradients match float64 finite differences") {
    std::uint64_t first = 1, count = 1000;
    if (const char* s = std::getenv("XGRAD_RANDOM_GRAPH_SEED")) {
        first = std::strtoull(s, nullptr, 10);
        count = 1;
    }
    std::map<std::size_t, int> coverage;
    std::size_t failures = 0, nodes = 0, ops = 0;
    double worst = 0, worst32 = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        const Outcome o = check_one(seed, coverage, nodes);
        worst = std::max(worst, o.max_rel_err);
        worst32 = std::max(worst32, o.max_f32_err);
        if (!o.report.empty()) std::printf("%s\n", o.report.c_str());
        if (!o.ok) {
            ++failures;
            FAIL_CHECK("random graph failed, seed " << seed << " (rerun: XGRAD_RANDOM_GRAPH_SEED=" << seed << ")");
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& [c, n] : coverage) ops += std::size_t(n);
    std::printf("random graphs: %llu graphs, %zu nodes (%zu ops from %zu rows of the op table), %zu failures, "
                "worst gradient-check error %.2g, worst float32 gradient error %.2g, %.2f s\n",
                (unsigned long long)count, nodes, ops, ot::rows().size(), failures, worst, worst32, secs);
    std::printf("op coverage:");
    for (std::size_t k = 0; k < ot::rows().size(); ++k) std::printf(" %s %d;", ot::rows()[k].name.c_str(), coverage[k]);
    std::printf("\n");
    CHECK(failures == 0);
    if (count > 1) {
        // Every row of the table appears many times.
        for (std::size_t k = 0; k < ot::rows().size(); ++k) {
            CAPTURE(ot::rows()[k].name);
            CHECK(coverage[k] >= 20);
        }
    }
}
