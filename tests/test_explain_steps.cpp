// explain on unrolled sequences (xg::fold_steps): the T steps of an RNN,
// LSTM or GRU print as one line per equation with the time index t; every
// folded line, read at each of its steps, is exactly the line derive() gives
// for that step; parameters' gradients become Σ_t; graphs without steps
// print as before.
#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <sstream>

#include "helpers.hpp"

using xg::Matrix;
using namespace xgt;
using M = Matrix<double>;

namespace {

/// An unrolled cell (0 RNN, 1 LSTM, 2 GRU) of T steps with an output layer
/// over all steps and a softmax cross-entropy, its gradients computed.
struct Unrolled {
    xg::Graph<double> g;
    xg::Var<double> J;
};

void build(Unrolled& u, int kind, std::size_t T, std::uint64_t seed = 1) {
    std::mt19937_64 rng(seed);
    const std::size_t n_x = 3, n = 4, m = 5;
    xg::Rng init(seed);
    std::vector<xg::Var<double>> xs;
    for (std::size_t t = 1; t <= T; ++t) xs.push_back(u.g.input(randn(n_x, m, rng), "x<" + std::to_string(t) + ">"));
    std::vector<xg::Var<double>> hs;
    if (kind == 0) {
        const xg::RNNCell<double> cell(n_x, n, init);
        hs = xg::unroll(cell, xs, xg::initial_state(u.g, n, m));
    } else if (kind == 1) {
        const xg::LSTMCell<double> cell(n_x, n, init);
        for (const auto& s : xg::unroll(cell, xs, {xg::initial_state(u.g, n, m), xg::initial_state(u.g, n, m, "c<0>")}))
            hs.push_back(s.a);
    } else {
        const xg::GRUCell<double> cell(n_x, n, init);
        hs = xg::unroll(cell, xs, xg::initial_state(u.g, n, m, "h<0>"));
    }
    auto Wy = u.g.parameter(randn(2, n, rng), "Wy");
    M y({1, m * T});
    for (double& v : y) v = double(rng() % 2);
    u.J = softmax_cross_entropy(matmul(Wy, concat_columns(hs).named("A")).named("Zy"), u.g.input(y, "y")).named("J");
    u.g.backward(u.J);
}

/// The text with every run of spaces as one space (the columns explain pads to
/// depend on the widest line).
std::string squash(const std::string& s) {
    std::string out;
    for (char ch : s) {
        if (ch == ' ' && !out.empty() && out.back() == ' ') continue;
        out += ch;
    }
    return out;
}

/// The text of a folded line read at step k: name<t±δ> becomes name<k±δ>.
std::string at_step(const std::string& text, long k) {
    std::string out;
    const std::regex stamp(R"(<t(?:([+-])(\d+))?>)");
    auto it = std::sregex_iterator(text.begin(), text.end(), stamp);
    std::size_t last = 0;
    for (; it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        out += text.substr(last, std::size_t(m.position()) - last);
        long j = k;
        if (m[1].matched) j += (m[1].str() == "+" ? 1 : -1) * std::stol(m[2].str());
        out += "<" + std::to_string(j) + ">";
        last = std::size_t(m.position() + m.length());
    }
    return out + text.substr(last);
}

std::vector<long> steps_of(const std::string& steps) {
    // "t = 1 … 4" or "t = 1, 3"
    std::vector<long> ks;
    const std::size_t dots = steps.find("…");
    if (dots != std::string::npos) {
        const long a = std::stol(steps.substr(4)), b = std::stol(steps.substr(dots + std::string("…").size()));
        for (long k = a; k <= b; ++k) ks.push_back(k);
        return ks;
    }
    std::stringstream s(steps.substr(4));
    for (std::string part; std::getline(s, part, ',');) ks.push_back(std::stol(part));
    return ks;
}

/// Every folded line of `folded`, at each of its steps, is the line `full`
/// has for that step; returns how many step lines were checked.
std::size_t check_folded(const std::vector<xg::Equation>& full, const std::vector<xg::Equation>& folded) {
    std::map<std::string, std::string> line;
    for (const xg::Equation& q : full) line[q.lhs] = xg::sym::render(q.rhs, {});
    std::size_t checked = 0;
    for (const xg::Equation& q : folded) {
        if (q.steps.empty() || q.lhs.find("<t>") == std::string::npos) continue;
        const std::string rhs = xg::sym::render(q.rhs, {});
        for (long k : steps_of(q.steps)) {
            const std::string lhs = at_step(q.lhs, k);
            CAPTURE(lhs);
            REQUIRE(line.count(lhs) == 1);
            CHECK(line[lhs] == at_step(rhs, k));
            ++checked;
        }
    }
    return checked;
}

}  // namespace

TEST_CASE("an unrolled RNN prints backpropagation through time once, with the time index") {
    Unrolled u;
    build(u, 0, 4);
    const std::string text = squash(xg::explain(u.J));
    INFO(text);
    CHECK(contains(text, "\n z<t> = Waa · a<t-1> + Wax · x<t> + ba t = 1 … 4\n"));
    CHECK(contains(text, "\n a<t> = tanh(z<t>) t = 1 … 4\n"));
    CHECK(contains(text, "\n dz<t> = da<t> ⊙ (1 − a<t>²) t = 1 … 4\n"));
    CHECK(contains(text, "\n da<t> = dA[:, columns of a<t>] + Waaᵀ · dz<t+1> t = 1 … 3\n"));
    CHECK(contains(text, "\n da<4> = dA[:, columns of a<4>]\n"));
    CHECK(contains(text, "\n dWaa = Σ_t(dz<t> · a<t-1>ᵀ) t = 1 … 4\n"));
    CHECK(contains(text, "\n dWax = Σ_t(dz<t> · x<t>ᵀ) t = 1 … 4\n"));
    CHECK(contains(text, "\n dba = Σ_t(Σ_columns dz<t>) t = 1 … 4\n"));
    // No line of a single step but the last one's da<4>.
    for (const char* step : {"z<1>", "z<2>", "a<3>", "dz<2>", "da<1>"}) CHECK_FALSE(contains(text, std::string("\n ") + step + " = "));
    // Without folding: one line per step.
    xg::ExplainOptions o;
    o.fold_steps = false;
    const std::string full = squash(xg::explain(u.J, o));
    CHECK(contains(full, "\n dz<2> = da<2> ⊙ (1 − a<2>²)\n"));
}

TEST_CASE("every folded line, read at each of its steps, is the line of that step (RNN, LSTM, GRU; T = 2 … 6)") {
    std::size_t lines = 0;
    for (int kind = 0; kind < 3; ++kind) {
        for (std::size_t T : {2, 3, 6}) {
            CAPTURE(kind);
            CAPTURE(T);
            Unrolled u;
            build(u, kind, T, 10 + T);
            const xg::Explanation d = xg::derive(u.J);
            const xg::Explanation f = xg::fold_steps(d);
            lines += check_folded(d.forward, f.forward);
            lines += check_folded(d.backward, f.backward);
            // Folding shrinks the text: one step's worth of lines plus the boundaries.
            CHECK(f.backward.size() < d.backward.size());
            if (T == 6) CHECK(f.backward.size() * 2 <= d.backward.size());
        }
    }
    CHECK(lines > 200);
}

TEST_CASE("folded explain in ASCII and LaTeX; a graph without steps prints as before") {
    Unrolled u;
    build(u, 0, 3);
    xg::ExplainOptions o;
    o.style = xg::sym::Style::ascii;
    CHECK(contains(xg::explain(u.J, o), "t = 1 ... 3"));
    o.style = xg::sym::Style::latex;
    CHECK(contains(xg::explain(u.J, o), "\\text{for } t = 1 \\ldots 3"));

    xg::Graph<double> g;
    auto X = g.input(M{{1.0, 2.0}}, "X");
    auto W = g.parameter(M{{0.5}}, "W");
    auto J = mean(square(W * X + W * X)).named("J");
    const xg::Explanation d = xg::derive(J);
    CHECK(xg::render(xg::fold_steps(d)) == xg::render(d));
}
