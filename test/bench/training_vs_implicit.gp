# test/bench/training_vs_implicit.gp — whole-training time by phase, reco beside implicit
# (stacked bars), drawn by test/bench/run.sh's plot step:
#   gnuplot -e "data='versus.dat'; out='x.png'; heading='...'; subheading='...'" test/bench/training_vs_implicit.gp
# data: one row per bar: "label" read build iterations final_pass store other csr fit (seconds;
# a reco row has zeros in the implicit columns and the other way round).
set terminal pngcairo noenhanced size 1100,650 font "DejaVu Sans,11"
set output out
set title heading . "\n" . subheading
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set grid ytics
set key below maxrows 3 font ",10"
set yrange [0:*]
set ylabel "seconds (medians; lower is better)"
plot data using 2:xtic(1) lc rgb "#9ecae1" title "reco: read", \
     "" using 3 lc rgb "#6baed6" title "reco: build", \
     "" using 4 lc rgb "#2171b5" title "reco: 5 iterations", \
     "" using 5 lc rgb "#08306b" title "reco: final exact user pass", \
     "" using 6 lc rgb "#74c476" title "reco: store", \
     "" using 7 lc rgb "#d9d9d9" title "reco: outside the phases", \
     "" using 8 lc rgb "#fdae6b" title "implicit: COO -> CSR (scipy)", \
     "" using 9 lc rgb "#d94801" title "implicit: fit (transpose, init, 5 iterations)"
