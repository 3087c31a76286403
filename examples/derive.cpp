// Derive the backward pass yourself: an exercise with a patient teaching
// assistant. The program builds a network, prints its forward equations,
// reads your backward equations (from a file, or standard input) and says
// which are right, which are wrong and by how much, with a hint from the
// engine's own derivation. See docs/derive.md.
//
//   derive [NETWORK] [FILE] [--reveal] [--convention lecture|autodiff] [--check]
//
//   NETWORK       two_layer (default), deep_relu, rnn_cell, softmax or batch_norm
//   FILE          your equations, one per line (# starts a comment);
//                 without FILE, or with -, they are read from standard input
//   --reveal      print the engine's backward equations instead
//   --convention  lecture (default): dZ = m ∂J/∂Z, the 1/m in dW and db;
//                 autodiff: every dX = ∂J/∂X, as xgrad computes it
//   --check       exit with status 1 unless every equation agrees (for scripts)
//
// Exits with status 2 for a usage error or an equation that does not parse.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "derive_networks.hpp"

namespace {

const char* const usage = "usage: derive [two_layer|deep_relu|rnn_cell|softmax|batch_norm] [FILE|-] [--reveal] "
                          "[--convention lecture|autodiff] [--check]\n";

std::string percent(double rel) {
    char buf[32];
    if (rel >= 10) std::snprintf(buf, sizeof buf, "%.0f times its size", rel);
    else if (rel >= 0.01) std::snprintf(buf, sizeof buf, "%.0f%%", rel * 100);
    else std::snprintf(buf, sizeof buf, "%.2g%%", rel * 100);  // a small slip (an ε left out) is not 0%
    return buf;
}

/// Two values with as many digits as it takes to tell them apart (at most 17).
std::pair<std::string, std::string> apart(double a, double b) {
    char x[40], y[40];
    for (int digits = 6; digits <= 17; ++digits) {
        std::snprintf(x, sizeof x, "%.*g", digits, a);
        std::snprintf(y, sizeof y, "%.*g", digits, b);
        if (std::string(x) != y) break;
    }
    return {x, y};
}

bool is_network(const std::string& name) {
    for (const derive_networks::Network& n : derive_networks::networks()) {
        if (n.name == name) return true;
    }
    return false;
}

/// The value of node `id` as a formula over named nodes: its op's formula with
/// each unnamed op node it reads written out in turn (`top`: the node's own
/// formula even when it is named).
xg::sym::Expr formula(const xg::Graph<double>& g, std::uint32_t id, bool top) {
    if (!top && (g.kind(id) != xg::NodeKind::op || !g.given_name(id).empty())) return xg::sym::var(g.name(id));
    std::vector<xg::sym::Expr> inputs;
    for (std::uint32_t in : g.inputs(id)) inputs.push_back(formula(g, in, false));
    return xg::sym::substitute(g.op(id)->formula(), inputs);
}

/// "it lacks …" → "your dZ1 lacks …".
std::string personal(const std::string& hint, const std::string& lhs) {
    if (hint.rfind("it ", 0) == 0) return "your " + lhs + hint.substr(2);
    return hint;
}

}  // namespace

int main(int argc, char** argv) {
    std::string network = "two_layer", file = "-";
    bool reveal = false, check = false, have_file = false, have_network = false;
    xg::DerivationOptions options;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--reveal") {
            reveal = true;
        } else if (a == "--check") {
            check = true;
        } else if (a == "--convention" && i + 1 < argc) {
            const std::string c = argv[++i];
            if (c != "lecture" && c != "autodiff") {
                std::cerr << "derive: --convention is lecture or autodiff, not " << c << "\n" << usage;
                return 2;
            }
            options.convention = c == "lecture" ? xg::Convention::lecture : xg::Convention::autodiff;
        } else if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (!have_network && !have_file && is_network(a)) {
            network = a;
            have_network = true;
        } else if (!have_file && (a.rfind("--", 0) != 0 || a == "-")) {
            file = a;
            have_file = true;
        } else {
            std::cerr << "derive: unexpected argument " << a << "\n" << usage;
            return 2;
        }
    }
    const derive_networks::Network* net = nullptr;
    for (const derive_networks::Network& n : derive_networks::networks()) {
        if (n.name == network) net = &n;
    }

    // The network at a small size, for its equations.
    xg::DerivationProbe small;
    small.examples = 5;
    small.sizes = {2, 3, 2, 2};
    const xg::DerivationNetwork shown = net->build(small);
    const xg::Explanation x = xg::derive(shown.loss);
    const bool lecture = options.convention == xg::Convention::lecture;
    std::cout << "Exercise: " << net->what << ".\n\nForward:\n";
    xg::Explanation forward_only = x;
    forward_only.backward.clear();
    std::string f = xg::render(forward_only);
    f = f.substr(f.find('\n') + 1);            // the lines under "forward:"
    f = f.substr(0, f.find("backward:"));
    std::cout << f;
    // The named nodes the loss does not read (y_hat = softmax(zy), batch statistics), which equations may read.
    std::set<std::uint32_t> listed;
    for (const xg::Equation& q : x.forward) listed.insert(q.node);
    std::vector<std::pair<std::string, std::string>> extra;
    std::size_t wide = 0;
    for (std::uint32_t id = 0; id < shown.graph->size(); ++id) {
        if (listed.count(id) || shown.graph->kind(id) != xg::NodeKind::op || shown.graph->given_name(id).empty()) continue;
        extra.emplace_back(shown.graph->name(id), xg::sym::render(formula(*shown.graph, id, true), xg::sym::Names{}));
        wide = std::max(wide, xg::sym::text_width(extra.back().first));
    }
    if (!extra.empty()) std::cout << "\nAlso named, for your equations:\n";
    for (const auto& e : extra) std::cout << "  " << e.first << std::string(wide - xg::sym::text_width(e.first), ' ') << " = " << e.second << "\n";
    std::cout << "\nThe gradients to derive:";
    for (std::size_t k = 0; k < x.backward.size(); ++k) std::cout << (k ? ", " : " ") << x.backward[k].lhs;
    std::cout << "\n"
              << (lecture ? "Convention: the lecture's. dZ means m ∂J/∂Z (no 1/m in dZ); dW and db are ∂J/∂W and "
                            "∂J/∂b (the 1/m goes there). m is the number of examples (columns).\n"
                          : "Convention: xgrad's. Every dX means ∂J/∂X, so the 1/m of the mean loss starts in "
                            "the first gradient. m is the number of examples (columns).\n");

    if (reveal) {
        std::cout << "\nThe engine's derivation (xgrad's convention, dX = ∂J/∂X"
                  << (lecture ? "; the lecture's dZ is m times these" : "") << "):\n";
        for (const xg::Equation& q : x.backward) {
            std::cout << "  " << q.lhs << " = " << xg::sym::render(q.rhs, xg::sym::Names{}) << "\n";
        }
        return 0;
    }

    std::string text;
    if (file == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        std::ifstream in(file);
        if (!in) {
            std::cerr << "derive: cannot read " << file << "\n";
            return 2;
        }
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::vector<xg::TypedEquation> eqs;
    try {
        eqs = xg::parse_equations(text);
    } catch (const xg::ParseError& e) {
        std::cout << "\nI cannot read your equations: " << e.what() << "\n";
        return 2;
    }
    if (eqs.empty()) {
        std::cout << "\nNo equations yet: write one per line, such as " << x.backward.front().lhs << " = ...\n";
        return check ? 1 : 0;
    }

    const xg::DerivationReport r = xg::check_derivation(net->build, eqs, options);
    std::size_t fewest = r.probes.front().examples;
    for (const xg::DerivationProbe& p : r.probes) fewest = std::min(fewest, p.examples);
    std::cout << "\nYour equations, each checked on " << r.probes.size() << " networks of different sizes "
              << (fewest == 1 ? "(one of them all 1 x 1, another with a single example):\n"
                              : "(one of them with every layer of size 1, others with only " + std::to_string(fewest) +
                                    " examples):\n");
    std::set<std::string> written;
    for (const xg::EquationCheck& c : r.checks) {
        written.insert(c.equation.lhs);
        const char* mark = c.verdict == xg::Verdict::agrees ? "right" : c.verdict == xg::Verdict::follows ? "inherits" : "WRONG";
        std::cout << "  " << mark << std::string(10 - std::string(mark).size(), ' ') << c.equation.text << "\n";
    }
    for (const xg::EquationCheck& c : r.checks) {
        const std::string& lhs = c.equation.lhs;
        switch (c.verdict) {
            case xg::Verdict::agrees:
                break;
            case xg::Verdict::follows: {
                std::cout << "\n" << lhs << " is right as written: it only inherits the mistake in";
                for (const std::string& w : c.reads_wrong) std::cout << " " << w;
                std::cout << ". Fix that one and " << lhs << " comes out right too.\n";
                break;
            }
            case xg::Verdict::differs:
            case xg::Verdict::cannot_check: {
                std::cout << "\n" << lhs << (&c == r.first_wrong() ? " is the first wrong step" : " is wrong too") << ". ";
                if (c.verdict == xg::Verdict::differs) {
                    const auto v = apart(c.yours, c.engine);
                    std::cout << "Its values are off by up to " << percent(c.max_rel_diff) << " (entry (" << c.row << ", "
                              << c.col << "): yours " << v.first << ", the true " << v.second << ").\n";
                } else {
                    std::cout << "I could not compare it: " << c.problem << ".\n";
                }
                if (!c.hint.empty()) std::cout << "Hint: " << personal(c.hint, lhs) << ".\n";
                else if (!c.engine_equation.empty())
                    std::cout << "Hint: compare it with what the engine does (run with --reveal when you give up).\n";
                break;
            }
        }
    }
    std::string missing;
    for (const xg::Equation& q : x.backward) {
        const bool leaf = shown.graph->kind(q.node) != xg::NodeKind::op;
        if (leaf && !written.count(q.lhs)) missing += " " + q.lhs;
    }
    if (!missing.empty()) std::cout << "\nStill to derive:" << missing << ".\n";
    if (r.ok() && missing.empty()) std::cout << "\nAll right: every equation agrees with the engine at every size.\n";
    return check && !r.ok() ? 1 : 0;
}
