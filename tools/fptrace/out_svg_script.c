/*
 * out_svg_script.c — the script inside every SVG flame graph: click-to-zoom,
 * search (Ctrl-F), a details line, the "defects only" highlight, the icicle
 * (inverted) view and the defect markers that follow the frames.  The picture
 * is complete without it; the script only moves, hides and recolours what
 * out_svg.c drew.
 *
 * What it relies on (written by out_svg.c): <svg data-w data-pad data-cw
 * data-ytop data-yroot data-fh>, frames as <g class="f"> holding a <rect>, a
 * <text> and a <title> (data-n for a cut name), defect frames with the class
 * "d" and their ancestors with "p", and each marker <g class="mk" data-f=N>
 * pointing at the Nth frame of the document.
 */
#include "out_svg_script.h"

const char fpt_svg_script[] =
	"var F=[],M=[],W,P,CW,YT,YR,FH,inv=false,details,reset,matched;\n"
	"function num(n){return +document.documentElement.getAttribute(n);}\n"
	"function init(){var s=document.documentElement;W=num('data-w');P=num('data-pad');"
	"CW=num('data-cw');YT=num('data-ytop');YR=num('data-yroot');FH=num('data-fh');\n"
	" details=document.getElementById('details');reset=document.getElementById('reset');"
	"matched=document.getElementById('matched');\n"
	" var gs=document.querySelectorAll('g.f');\n"
	" for(var i=0;i<gs.length;i++){var g=gs[i],r=g.querySelector('rect'),t=g.querySelector('text');\n"
	"  var f={g:g,r:r,t:t,x:+r.getAttribute('x'),w:+r.getAttribute('width'),y:+r.getAttribute('y'),"
	"n:g.getAttribute('data-n')||t.textContent,fill:r.getAttribute('fill'),"
	"min:+(g.getAttribute('data-min')||0)};\n"
	"  F.push(f);g.onclick=zoom.bind(null,f);\n"
	"  g.onmouseover=function(){details.textContent=this.querySelector('title').textContent;};\n"
	"  g.onmouseout=function(){details.textContent=' ';};}\n"
	" var ms=document.querySelectorAll('g.mk');\n"
	" for(var j=0;j<ms.length;j++){var m={g:ms[j],f:F[+ms[j].getAttribute('data-f')],"
	"p:ms[j].querySelector('path'),l:ms[j].querySelector('line')};M.push(m);"
	"ms[j].onclick=zoom.bind(null,m.f);}\n"
	" reset.onclick=unzoom;document.getElementById('search').onclick=search;\n"
	" document.getElementById('invert').onclick=invert;\n"
	" var d=document.getElementById('defects');if(d)d.onclick=defectsOnly;\n"
	" window.addEventListener('keydown',function(e){if((e.ctrlKey||e.metaKey)&&e.key=='f')"
	"{e.preventDefault();search();}});\n"
	" if(location.hash=='#icicle')invert();marks();}\n"
	"function fit(n,w){var c=Math.floor((w-6)/CW);return c<3?'':n.length<=c?n:n.substring(0,c-2)+'..';}\n"
	/* A defect keeps its minimum width (data-min) at every zoom level. */
	"function place(f,x,w){f.r.setAttribute('x',x);f.r.setAttribute('width',Math.max(w,f.min));"
	"f.t.setAttribute('x',x+3);f.t.textContent=fit(f.n,w);f.g.style.display='';}\n"
	"function ypos(f){return inv?YT+YR-f.y:f.y;}\n"
	"function marks(){M.forEach(function(m){var f=m.f;if(f.g.style.display=='none'){"
	"m.g.style.display='none';return;}m.g.style.display='';\n"
	" var cx=+f.r.getAttribute('x')+(+f.r.getAttribute('width'))/2,y=ypos(f);\n"
	" m.p.setAttribute('transform','translate('+cx+',0)');m.l.setAttribute('x1',cx);"
	"m.l.setAttribute('x2',cx);m.l.setAttribute('y2',inv?y:y+FH-1);});}\n"
	"function zoom(z){var k=(W-2*P)/z.w,e=1e-3;F.forEach(function(f){\n"
	" if(f.y>z.y&&f.x<=z.x+e&&f.x+f.w>=z.x+z.w-e)place(f,P,W-2*P);\n"
	" else if(f.y<=z.y&&f.x>=z.x-e&&f.x+f.w<=z.x+z.w+e)place(f,P+(f.x-z.x)*k,f.w*k);\n"
	" else f.g.style.display='none';});reset.style.display='';marks();}\n"
	"function unzoom(){F.forEach(function(f){place(f,f.x,f.w);});reset.style.display='none';marks();}\n"
	/* The icicle view: the root at the top, callees below their callers. */
	"function invert(){inv=!inv;F.forEach(function(f){var y=ypos(f);f.r.setAttribute('y',y);"
	"f.t.setAttribute('y',y+FH-4.5);});\n"
	" document.getElementById('invert').textContent=inv?'Flame':'Icicle';marks();}\n"
	"function defectsOnly(){var c=document.documentElement.classList;c.toggle('defects');\n"
	" document.getElementById('defects').textContent=c.contains('defects')?"
	"'All frames':'Defects only';}\n"
	"function search(){var s=prompt('Search functions (regular expression):','');"
	"if(s===null)return;var re;\n"
	" try{re=new RegExp(s);}catch(x){alert(x);return;}var iv=[];\n"
	" F.forEach(function(f){var m=s!==''&&re.test(f.n);f.r.setAttribute('fill',m?'rgb(64,200,255)':f.fill);"
	"if(m)iv.push([f.x,f.x+f.w]);});\n"
	" iv.sort(function(a,b){return a[0]-b[0];});var sum=0,end=-1;\n"
	" iv.forEach(function(v){if(v[1]<=end)return;sum+=v[1]-Math.max(v[0],end);end=v[1];});\n"
	" matched.textContent=s===''?'':'Matched: '+(100*sum/(W-2*P)).toFixed(1)+'%';}\n"
	"init();\n";
