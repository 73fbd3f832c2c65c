package grid

// CellRes is the H3 resolution citygrid stores with every case (the h3
// column), indexes grids by (the Locator) and buckets its case index by.
// It is one constant, not a setting: cells stored at one resolution and
// counted at another would put a case in different cells for hotspots, map
// clusters and h3= area queries. The database records it (migration 005) and
// a process refuses a database written at another resolution.
const CellRes = 9
