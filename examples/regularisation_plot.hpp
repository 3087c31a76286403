// examples/regularisation's picture: the decision boundaries of several
// trained models side by side, over the training examples, drawn by gnuplot
// through a pipe (needed only at run time, only when a picture is asked for).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "gnuplot_plot.hpp"

namespace plot {

/// One panel: its title and the model whose prediction it shades.
struct Panel {
    std::string title;
    const xg::Sequential<double>* model;
};

/// Draw `file` (.png or .svg): one panel per model, each shading the plane
/// by the model's predicted class (in evaluation mode) with the examples of
/// `data` on top. Returns "" on success, or what went wrong.
inline std::string draw_boundaries(const std::string& file, const xg::Dataset<double>& data,
                                   const std::vector<Panel>& panels) {
    std::string term = terminal_for(file);
    if (term.empty()) return "the picture's name must end in .png or .svg";
    if (data.features() != 2) return "the data is not 2-D";
    if (!gnuplot_available()) return "gnuplot was not found (install gnuplot-nox to draw pictures)";
    term.replace(term.find("1200,540"), 8, std::to_string(420 * panels.size()) + ",460");
    FILE* gp = ::popen("gnuplot", "w");
    if (!gp) return "cannot start gnuplot";
    std::fprintf(gp, "set terminal %s\nset output %s\nset termoption noenhanced\n", term.c_str(), quoted(file).c_str());
    std::fprintf(gp, "set multiplot layout 1,%zu\n", panels.size());

    // The plane around the data, with a margin of 0.5, on a 160 x 160 grid.
    const xg::Matrix<double>& X = data.X;
    const Plane plane = plane_around(X, 0.5, 160);
    const double x0 = plane.x0, x1 = plane.x1, y0 = plane.y0, y1 = plane.y1;
    const std::size_t n = plane.n;
    const xg::Matrix<double>& grid = plane.grid;
    for (int cls = 0; cls < 2; ++cls) {
        std::fprintf(gp, "$class%d << EOD\n", cls);
        for (std::size_t j = 0; j < data.size(); ++j) {
            if (data.Y(0, j) == cls) std::fprintf(gp, "%.6g %.6g\n", X(0, j), X(1, j));
        }
        std::fprintf(gp, "EOD\n");
    }
    for (const Panel& p : panels) {
        const xg::Matrix<double> pred = p.model->predict(grid);
        std::fprintf(gp, "$grid << EOD\n");
        for (std::size_t r = 0; r < n; ++r) {
            for (std::size_t c = 0; c < n; ++c) {
                std::fprintf(gp, "%.6g %.6g %d\n", grid(0, r * n + c), grid(1, r * n + c), pred(0, r * n + c) > 0.5 ? 1 : 0);
            }
            std::fprintf(gp, "\n");
        }
        std::fprintf(gp, "EOD\n");
        std::fprintf(gp,
                     "set title %s\nset xrange [%g:%g]\nset yrange [%g:%g]\nset size ratio -1\n"
                     "set palette defined (0 '#f9cfc9', 1 '#cbe0f1')\nset cbrange [0:1]\nunset colorbox\nunset key\n"
                     "plot $grid using 1:2:3 with image, "
                     "$class0 using 1:2 with points pt 7 ps 0.6 lc rgb '#d7191c', "
                     "$class1 using 1:2 with points pt 7 ps 0.6 lc rgb '#2b83ba'\n",
                     quoted(p.title).c_str(), x0, x1, y0, y1);
    }
    std::fprintf(gp, "unset multiplot\nset output\n");
    const int status = ::pclose(gp);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return "gnuplot failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
    }
    return "";
}

}  // namespace plot
