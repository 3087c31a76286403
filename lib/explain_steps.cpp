// explain's folding of an unrolled sequence: the equations of nodes named
// name<k> that differ only in their step k are written once, with the time
// index t (dz<t> = da<t> ⊙ (1 − a<t>²)), and the per-step terms of a
// parameter's gradient become one Σ_t.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "xgrad/explain.hpp"

namespace xg {

namespace {

/// A name "base<k>": step k of base. `ok` is false for any other name.
struct Stamp {
    std::string base;
    long k = 0;
    bool ok = false;
};

Stamp stamp(const std::string& name) {
    Stamp s;
    if (name.size() < 4 || name.back() != '>') return s;
    const std::size_t lt = name.rfind('<');
    if (lt == std::string::npos || lt == 0 || lt + 2 > name.size() - 1) return s;
    for (std::size_t i = lt + 1; i + 1 < name.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return s;
    }
    if (name.size() - lt - 2 > 9) return s;  // no step that large
    s.base = name.substr(0, lt);
    s.k = std::stol(name.substr(lt + 1, name.size() - lt - 2));
    s.ok = true;
    return s;
}

/// "base<t>", "base<t-1>", "base<t+2>".
std::string relative_name(const std::string& base, long delta) {
    if (delta == 0) return base + "<t>";
    return base + "<t" + (delta < 0 ? "-" : "+") + std::to_string(delta < 0 ? -delta : delta) + ">";
}

/// `e` with every variable name<j> written name<t+δ>, δ = j − k.
sym::Expr relative(const sym::Expr& e, long k) {
    if (e->kind == sym::Kind::variable) {
        const Stamp s = stamp(e->text.unicode);
        return s.ok ? sym::var(relative_name(s.base, s.k - k)) : e;
    }
    if (e->args.empty()) return e;
    auto t = std::make_shared<sym::Term>(*e);
    for (sym::Expr& a : t->args) a = relative(a, k);
    return t;
}

/// The largest step among the variables of `e` (−1 when none has one).
long last_step(const sym::Expr& e) {
    if (e->kind == sym::Kind::variable) {
        const Stamp s = stamp(e->text.unicode);
        return s.ok ? s.k : -1;
    }
    long k = -1;
    for (const sym::Expr& a : e->args) k = std::max(k, last_step(a));
    return k;
}

/// The terms of a sum (x + y + …), in order.
void terms(const sym::Expr& e, std::vector<sym::Expr>& out) {
    if (e->kind == sym::Kind::add) {
        terms(e->args[0], out);
        terms(e->args[1], out);
    } else {
        out.push_back(e);
    }
}

/// "t = 1 … 4", or "t = 1, 3, 4" for steps that are not consecutive.
std::string steps_text(const std::set<long>& ks) {
    const bool consecutive = *ks.rbegin() - *ks.begin() + 1 == long(ks.size());
    if (consecutive && ks.size() > 2) return "t = " + std::to_string(*ks.begin()) + " … " + std::to_string(*ks.rbegin());
    std::string s = "t = ";
    for (long k : ks) s += (s.size() > 4 ? ", " : "") + std::to_string(k);
    return s;
}

/// x[lo] + … + x[hi − 1] as a balanced tree (as explain writes long sums).
sym::Expr balanced_sum(const std::vector<sym::Expr>& x, std::size_t lo, std::size_t hi) {
    if (hi - lo == 1) return x[lo];
    const std::size_t mid = lo + (hi - lo) / 2;
    return sym::add(balanced_sum(x, lo, mid), balanced_sum(x, mid, hi));
}

/// In a sum, the terms that differ only in their steps as one Σ_t term;
/// `e` itself when no two terms do.
sym::Expr fold_sum(const sym::Expr& e, std::set<long>& steps) {
    std::vector<sym::Expr> parts;
    terms(e, parts);
    struct Group {
        sym::Expr term;  // the first term of the group, as written
        sym::Expr form;  // its form with the step t (none without steps)
        std::set<long> ks;
    };
    std::vector<Group> groups;
    std::map<std::string, std::size_t> index;
    bool folded = false;
    for (const sym::Expr& p : parts) {
        const long k = last_step(p);
        if (k < 0) {
            groups.push_back({p, nullptr, {}});
            continue;
        }
        sym::Expr form = relative(p, k);
        const std::string key = sym::render(form, {});
        const auto it = index.find(key);
        if (it == index.end()) {
            index[key] = groups.size();
            groups.push_back({p, std::move(form), {k}});
        } else {
            groups[it->second].ks.insert(k);
            folded = true;
        }
    }
    if (!folded) return e;
    std::vector<sym::Expr> out;
    for (const Group& g : groups) {
        if (g.ks.size() > 1) {
            out.push_back(sym::fn(sym::Spelling{"Σ_t", "sum_t", "\\sum_t"}, g.form, true));
            steps.insert(g.ks.begin(), g.ks.end());
        } else {
            out.push_back(g.term);
        }
    }
    return balanced_sum(out, 0, out.size());
}

std::vector<Equation> fold(const std::vector<Equation>& eqs) {
    std::vector<Equation> out;
    std::vector<std::set<long>> ks;          // per output line: the steps it stands for
    std::vector<std::size_t> source;         // per output line: the first equation it came from
    std::map<std::string, std::size_t> line;  // "base = form" → output line
    for (std::size_t q = 0; q < eqs.size(); ++q) {
        const Equation& e = eqs[q];
        const Stamp s = stamp(e.lhs);
        if (!s.ok) {
            Equation f = e;
            std::set<long> steps;
            f.rhs = fold_sum(e.rhs, steps);
            if (!steps.empty()) f.steps = steps_text(steps);
            out.push_back(f);
            ks.emplace_back();
            source.push_back(q);
            continue;
        }
        Equation f = e;
        f.lhs = relative_name(s.base, 0);
        f.rhs = relative(e.rhs, s.k);
        const std::string key = f.lhs + " = " + sym::render(f.rhs, {});
        const auto it = line.find(key);
        if (it != line.end()) {
            ks[it->second].insert(s.k);
            continue;
        }
        line[key] = out.size();
        out.push_back(f);
        ks.push_back({s.k});
        source.push_back(q);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (ks[i].size() == 1) {
            out[i] = eqs[source[i]];  // one step: its own line, as derived
        } else if (ks[i].size() > 1) {
            out[i].steps = steps_text(ks[i]);
        }
    }
    return out;
}

}  // namespace

Explanation fold_steps(const Explanation& d) {
    Explanation out;
    out.leaves = d.leaves;
    out.forward = fold(d.forward);
    out.backward = fold(d.backward);
    return out;
}

}  // namespace xg
