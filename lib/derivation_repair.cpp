// The repair of a wrong equation: the single change that makes it agree on
// every probe (a factor m, a sign, a transpose, a sum's axis, a missing or
// extra factor, a product's order or kind) names the mistake.
#include <cmath>
#include <functional>

#include "derivation_impl.hpp"

namespace xg::detail {

namespace {

/// The subterms of `e` in preorder.
void preorder(const sym::Expr& e, std::vector<sym::Expr>& out) {
    out.push_back(e);
    for (const sym::Expr& a : e->args) preorder(a, out);
}

/// `e` with its k-th subterm (preorder) replaced by f(that subterm).
sym::Expr replace_at(const sym::Expr& e, std::size_t& k, const std::function<sym::Expr(const sym::Expr&)>& f) {
    if (k == 0) {
        k = std::size_t(-1);
        return f(e);
    }
    --k;
    if (e->args.empty()) return e;
    std::vector<sym::Expr> args;
    bool changed = false;
    for (const sym::Expr& a : e->args) {
        if (k == std::size_t(-1)) {
            args.push_back(a);
            continue;
        }
        args.push_back(replace_at(a, k, f));
        changed = changed || args.back() != a;
    }
    if (!changed) return e;
    auto t = std::make_shared<sym::Term>(*e);
    t->args = std::move(args);
    return t;
}

sym::Expr edit(const sym::Expr& e, std::size_t k, const std::function<sym::Expr(const sym::Expr&)>& f) {
    return replace_at(e, k, f);
}

/// Which sum a function term is: 1 columns, 0 rows, 2 all, −1 none.
int sum_kind(const sym::Expr& e) {
    if (e->kind != sym::Kind::function) return -1;
    const std::string& f = e->text.unicode;
    return f == "Σ_columns" ? 1 : f == "Σ_rows" ? 0 : f == "Σ_all" || f == "Σ" ? 2 : -1;
}

sym::Expr sum_of(int axis, sym::Expr x) {
    return axis == 1 ? sym::sum_columns(std::move(x)) : axis == 0 ? sym::sum_rows(std::move(x)) : sym::sum_all(std::move(x));
}

constexpr std::size_t max_repair_terms = 64;

struct Candidate {
    Mistake mistake;
    sym::Expr rhs;
    std::string hint;
};

}  // namespace

std::pair<Mistake, std::string> find_repair(const sym::Expr& rhs, const RepairContext& c) {
    const sym::Style style = c.options->style;
    const auto t = [&](const sym::Expr& e) { return text(e, style); };
    const auto agrees = [&](const sym::Expr& e) {
        for (std::size_t p = 0; p < c.probes->size(); ++p) {
            const Snapshot& s = (*c.probes)[p];
            try {
                const Mat v = evaluate(e, [&](const std::string& n) { return c.lookup(p, n); }, s.m, style);
                const Mat& want = *c.targets[p];
                if (v.shape() != want.shape()) return false;
                if (difference(v, want, c.options->rtol, c.options->atol).rel > c.options->rtol) return false;
            } catch (const EvalFailure&) {
                return false;
            }
        }
        return true;
    };

    std::vector<Candidate> tries;
    const bool lecture = c.options->convention == Convention::lecture;
    // 1. The factor m, with what the convention says about it.
    {
        const std::string node = c.lhs.size() > 1 ? c.lhs.substr(1) : c.lhs;
        std::string missing, extra;
        if (c.gradient && lecture && c.parameter) {
            missing = " (in the lecture's convention dW and db carry the 1/m)";
        } else if (c.gradient && lecture) {
            extra = " (in the lecture's convention " + c.lhs + " is m ∂J/∂" + node +
                    ", without the 1/m; Convention::autodiff checks ∂J/∂" + node + " instead)";
        } else if (c.gradient) {
            missing = " (in xgrad's convention every gradient is ∂J/∂x and carries the 1/m of the mean loss; "
                      "Convention::lecture checks the lecture's dZ = m ∂J/∂Z instead)";
        }
        tries.push_back({Mistake::factor_m, sym::div(rhs, sym::m()), "it is m times the right value: the 1/m is missing" + missing});
        tries.push_back({Mistake::factor_m, sym::scale(sym::m(), rhs), "it is 1/m times the right value: a 1/m too many" + extra});
    }
    // 2. The sign.
    tries.push_back({Mistake::sign, sym::neg(rhs), "the sign is wrong: −(" + t(rhs) + ") agrees"});
    // Edits inside the formula only for a formula of a person's size: the
    // search costs (terms)² evaluations.
    std::vector<sym::Expr> terms;
    preorder(rhs, terms);
    if (terms.size() > max_repair_terms) terms.clear();
    // 3. A sum over another axis.
    for (std::size_t k = 0; k < terms.size(); ++k) {
        const int axis = sum_kind(terms[k]);
        if (axis < 0) continue;
        for (int other : {1, 0, 2}) {
            if (other == axis) continue;
            const sym::Expr fixed = sum_of(other, terms[k]->args[0]);
            tries.push_back({Mistake::sum_axis, edit(rhs, k, [&](const sym::Expr&) { return fixed; }),
                             "a sum over the wrong axis: " + t(terms[k]) + " where " + t(fixed) + " is meant" +
                                 (other == 1 ? " (a bias is added to every column: its gradient sums over the columns)"
                                             : "")});
        }
    }
    // 4. A transpose: of the whole right-hand side, added to a name, or removed.
    tries.push_back({Mistake::transpose, sym::transpose(rhs), "it is the transpose of the right value"});
    for (std::size_t k = 0; k < terms.size(); ++k) {
        const sym::Expr& e = terms[k];
        if (e->kind == sym::Kind::variable) {
            const sym::Expr fixed = sym::transpose(e);
            tries.push_back({Mistake::transpose, edit(rhs, k, [&](const sym::Expr&) { return fixed; }),
                             t(e) + " where " + t(fixed) + " is meant"});
        } else if (e->kind == sym::Kind::transpose && e->args[0]->kind == sym::Kind::variable) {
            const sym::Expr fixed = e->args[0];
            tries.push_back({Mistake::transpose, edit(rhs, k, [&](const sym::Expr&) { return fixed; }),
                             t(e) + " where " + t(fixed) + " is meant"});
        }
    }
    // 5. A factor of the engine's equation that is missing.
    for (const auto& f : c.factors) {
        const sym::Kind k = f.first->kind;
        const bool sum = k == sym::Kind::add || k == sym::Kind::sub || k == sym::Kind::neg;
        tries.push_back({Mistake::missing_factor, sym::hadamard(rhs, f.first),
                         "it lacks the factor " + (sum ? "(" + t(f.first) + ")" : t(f.first)) +
                             (f.second.empty() ? "" : ", " + f.second)});
    }
    // 6. A factor too many, 7. a product's operands swapped, 8. ⊙ for · or the reverse.
    for (std::size_t k = 0; k < terms.size(); ++k) {
        const sym::Expr& e = terms[k];
        if (e->kind == sym::Kind::hadamard || e->kind == sym::Kind::scale) {
            for (std::size_t side = 0; side < 2; ++side) {
                const sym::Expr keep = e->args[side], drop = e->args[1 - side];
                tries.push_back({Mistake::extra_factor, edit(rhs, k, [&](const sym::Expr&) { return keep; }),
                                 "it has a factor too many: " + t(drop)});
            }
        }
        if (e->kind == sym::Kind::matmul) {
            const sym::Expr swapped = sym::matmul(e->args[1], e->args[0]);
            tries.push_back({Mistake::operand_order, edit(rhs, k, [&](const sym::Expr&) { return swapped; }),
                             "the matrix product's factors are in the wrong order: " + t(swapped) + ", not " + t(e)});
            const sym::Expr elementwise = sym::hadamard(e->args[0], e->args[1]);
            tries.push_back({Mistake::product_kind, edit(rhs, k, [&](const sym::Expr&) { return elementwise; }),
                             "a matrix product where the elementwise one is meant: " + t(elementwise)});
        }
        if (e->kind == sym::Kind::hadamard) {
            const sym::Expr product = sym::matmul(e->args[0], e->args[1]);
            tries.push_back({Mistake::product_kind, edit(rhs, k, [&](const sym::Expr&) { return product; }),
                             "an elementwise product where the matrix product is meant: " + t(product)});
        }
    }
    for (const Candidate& cand : tries) {
        if (agrees(cand.rhs)) {
            std::string hint = cand.hint;
            if (cand.mistake != Mistake::factor_m && cand.mistake != Mistake::sign) {
                hint += "; " + c.lhs + " = " + t(sym::simplify(cand.rhs)) + " agrees";
            }
            return {cand.mistake, hint};
        }
    }
    return {Mistake::none, ""};
}

}  // namespace xg::detail
