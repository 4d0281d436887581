# Shared by plots/*.gp. The caller sets fmt ('png' | 'svg'), dat (the .dat
# file) and out (the image). Data files: blocks of rows separated by two blank
# lines (gnuplot `index`), each opened by a "# panel: TITLE" comment line.

set encoding utf8
set datafile separator "\t"
set datafile missing "NaN"
set style fill solid 0.85 border rgb "#404040"
set grid ytics lc rgb "#d8d8d8" lt 1
set border 3
set tics nomirror out
set style textbox opaque noborder

# colour of policy number i (pidx: none grey, belady black, the rest a palette)
array PC[9] = [0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x17becf, 0xbcbd22]
pcolor(i, name) = name eq "none" ? 0x7f7f7f : name eq "belady" ? 0x000000 : PC[(int(i) - 2) % 9 + 1]

# column number of a named column of summary-derived files (header line "# x group ...")
cols = system(sprintf("head -n 1 '%s'", dat))
col(name) = sum [i = 2:words(cols)] (word(cols, i) eq name ? i - 1 : 0)

# title of block i (from 0)
panel(i) = system(sprintf("awk '/^# panel: /{if(n++==%d){sub(/^# panel: /,\"\");print;exit}}' '%s'", i, dat))

# the named column of the first row of block i, as a string
cell(i, name) = system(sprintf("awk -F'\t' -v c=%d '/^# panel: /{b++; next} b==%d && !/^#/ && NF{print $c; exit}' '%s'", col(name), i + 1, dat))

# n panels of pw x ph pixels in up to maxcol columns, a strip of KW pixels on
# the right for the legend, top pixels for the title, bottom pixels for a note
KW = 270
termopt = (fmt eq 'svg' ? "svg dynamic font 'DejaVu Sans,13'" : "pngcairo font 'DejaVu Sans,11'") . " noenhanced"
begin(n, maxcol, pw, ph, top, bottom, title) = sprintf( \
  "BOT = %d; TOP = %d; ncol = %d; nrow = %d; W = ncol * %d + KW; H = nrow * %d + %d + %d; " . \
  "set terminal %s size W, H background '#ffffff'; set output out; " . \
  "set multiplot layout nrow, ncol title \"%s\" font ',15' " . \
  "margins 90.0 / W, 1 - (KW + 20.0) / W, (%d + 62.0) / H, 1 - %d.0 / H spacing 95.0 / W, 100.0 / H", \
  bottom, top, n < maxcol ? n : maxcol, (n + maxcol - 1) / maxcol, pw, ph, top, bottom + 62, termopt, title, bottom, top)
# the legend, once, in the strip on the right
keyright = "set key at screen 1 - (KW - 15.0) / W, 1 - TOP * 1.0 / H left top vertical reverse Left maxcols 1 maxrows 40 samplen 2 spacing 1.2 width -3 box lc rgb '#a0a0a0'"
# a line of text at the bottom of the figure
note(s) = sprintf("set label 99 \"%s\" at screen 0.01, (BOT - 20.0) / H left font ',10' tc rgb '#404040'", s)
