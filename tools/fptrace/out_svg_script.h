/* out_svg_script.h — the interactive part of the SVG flame graph (JavaScript). */
#ifndef FPT_OUT_SVG_SCRIPT_H
#define FPT_OUT_SVG_SCRIPT_H

extern const char fpt_svg_script[];

#endif
