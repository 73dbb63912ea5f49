(()=>{
const $=s=>document.querySelector(s),T=$('#conns tbody'),F=$('#filter'),N=$('#shown'),S=$('#sev'),C=$('#cap');
const rows=()=>[...T.querySelectorAll('tr.c')];
const inCap=r=>!C||C.value===''||r.dataset.c===C.value;
function filter(){const v=F.value.toLowerCase().trim(),s=+S.value;let n=0;
for(const r of rows()){const on=(!v||(r.textContent+' '+r.dataset.f).toLowerCase().includes(v))&&+r.dataset.s>=s&&inCap(r);
r.classList.toggle('off',!on);r.nextElementSibling.classList.toggle('off',!on);n+=on}
N.textContent=n;
for(const r of document.querySelectorAll('#findings-table tbody tr'))r.classList.toggle('off',+r.dataset.s<s||!inCap(r))}
F.addEventListener('input',filter);S.addEventListener('change',filter);C&&C.addEventListener('change',filter);
// A finding's connection link opens that connection's row (clearing
// filters that hide it) and its details.
function show(){const r=location.hash.length>1&&document.getElementById(location.hash.slice(1));if(!r||!r.classList.contains('c'))return;
if(r.classList.contains('off')){F.value='';S.value='-1';if(C)C.value='';filter()}
r.nextElementSibling.classList.remove('closed');r.setAttribute('aria-expanded',true);r.scrollIntoView({block:'center'})}
addEventListener('hashchange',show);show();
T.addEventListener('click',e=>{const r=e.target.closest('tr.c');if(!r)return;
const d=r.nextElementSibling;d.classList.toggle('closed');r.setAttribute('aria-expanded',!d.classList.contains('closed'))});
$('#all').addEventListener('click',()=>{const open=rows().some(r=>r.nextElementSibling.classList.contains('closed'));
for(const r of rows()){r.nextElementSibling.classList.toggle('closed',!open);r.setAttribute('aria-expanded',open)}});
document.querySelectorAll('#conns th').forEach((h,i)=>h.addEventListener('click',()=>{
const d=h.dataset.dir==='a'?'d':'a';h.parentNode.querySelectorAll('th').forEach(x=>delete x.dataset.dir);h.dataset.dir=d;
const key=r=>{const c=r.cells[i];return c.dataset.v??c.textContent};
const pairs=rows().map(r=>[r,r.nextElementSibling]).sort((a,b)=>{const x=key(a[0]),y=key(b[0]);
const c=x!==''&&y!==''&&!isNaN(x)&&!isNaN(y)?x-y:x.localeCompare(y);return d==='a'?c:-c});
for(const[r,dt]of pairs)T.append(r,dt)}));
})();
