// The picture of a Fashion-MNIST run, drawn by gnuplot through a pipe: the
// training loss and the test accuracy per epoch side by side on top, and
// below them a 5 × 5 grid of misclassified test images, each titled with its
// true and its predicted class. gnuplot is needed only at run time, and only
// when a picture is asked for.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "gnuplot_plot.hpp"

namespace fashion_plot {

/// The gnuplot terminal for a file name: PNG or SVG by extension, "" otherwise.
inline std::string terminal_for(const std::string& file) {
    const std::string term = plot::terminal_for(file);
    if (term.empty()) return "";
    return term.rfind("png", 0) == 0 ? "pngcairo size 1000,1250 font 'sans,10'"
                                     : "svg size 1000,1250 font 'sans,10' background rgb 'white'";
}

/// Draw `file`: losses[e] and accuracies[e] (in %) against the epoch e
/// (e = 0 before training), and the first 25 images of `test` (the test or
/// validation set, as `measured` says) whose predicted
/// class differs from their label. Returns "" on success, or what went wrong.
template <class T>
std::string draw(const std::string& file, const std::vector<double>& losses, const std::vector<double>& accuracies,
                 const xg::Dataset<T>& test, const std::vector<std::size_t>& predicted, const std::string& measured) {
    const std::string term = terminal_for(file);
    if (term.empty()) return "the picture's name must end in .png or .svg";
    if (!plot::gnuplot_available()) return "gnuplot was not found (install gnuplot-nox to draw pictures)";
    FILE* gp = ::popen("gnuplot", "w");
    if (!gp) return "cannot start gnuplot";

    std::fprintf(gp, "set terminal %s\nset output %s\nset multiplot\n", term.c_str(), plot::quoted(file).c_str());
    // The curves: the top 30% of the picture, two panels.
    std::fprintf(gp, "$curves << EOD\n");
    for (std::size_t e = 0; e < losses.size(); ++e) std::fprintf(gp, "%zu %.6g %.4f\n", e, losses[e], accuracies[e]);
    std::fprintf(gp, "EOD\n");
    const int every = losses.size() <= 11 ? 1 : losses.size() <= 51 ? 5 : 10;  // epochs between tics
    std::fprintf(gp,
                 "set grid\nunset key\nset xlabel 'epoch'\nset xrange [0:*]\nset xtics %d\n"
                 "set origin 0,0.7\nset size 0.5,0.3\nset title 'Training loss (epoch 0: before training)'\n"
                 "set ylabel 'mean softmax cross-entropy'\nset yrange [0:*]\n"
                 "plot $curves using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#1a1a1a'\n"
                 "set origin 0.5,0.7\nset size 0.5,0.3\nset title '%s accuracy (%zu images)'\n"
                 "set ylabel '%%'\nset yrange [*:*]\n"
                 "plot $curves using 1:3 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#2b83ba'\n",
                 every, measured == "test" ? "Test" : "Validation", test.size());

    // The misclassified images: 28 × 28 pixels each, white on black, row 0 on top.
    std::vector<std::size_t> wrong;
    for (std::size_t j = 0; j < predicted.size() && wrong.size() < 25; ++j)
        if (predicted[j] != std::size_t(test.Y(0, j))) wrong.push_back(j);
    const std::vector<std::string>& names = xg::fashion_mnist_classes();
    std::fprintf(gp,
                 "unset grid\nunset xlabel\nunset ylabel\nunset tics\nunset border\nunset colorbox\n"
                 "set palette gray\nset cbrange [0:1]\nset xrange [-0.5:27.5]\nset yrange [27.5:-0.5]\n"
                 "set size ratio -1\nset label 1 %s at screen 0.5,0.675 center font ',12'\n",
                 plot::quoted("Misclassified " + measured + " images (true class / predicted class)" +
                                 (wrong.empty() ? ": none" : ""))
                     .c_str());
    for (std::size_t i = 0; i < wrong.size(); ++i) {
        const std::size_t j = wrong[i];
        std::fprintf(gp, "$image%zu << EOD\n", i);
        for (std::size_t r = 0; r < 28; ++r) {
            for (std::size_t c = 0; c < 28; ++c) std::fprintf(gp, "%s%.3g", c ? " " : "", double(test.X(r * 28 + c, j)));
            std::fprintf(gp, "\n");
        }
        std::fprintf(gp, "EOD\n");
        std::fprintf(gp, "set origin %g,%g\nset size 0.2,0.13\nset title \"%s / %s\" font ',9'\n", 0.2 * double(i % 5),
                     0.52 - 0.13 * double(i / 5), names[std::size_t(test.Y(0, j))].c_str(), names[predicted[j]].c_str());
        std::fprintf(gp, "plot $image%zu matrix with image\n", i);
        if (i == 0) std::fprintf(gp, "unset label 1\n");
    }
    std::fprintf(gp, "unset multiplot\n");
    const int status = ::pclose(gp);
    if (status != 0) return "gnuplot failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
    return "";
}

}  // namespace fashion_plot
