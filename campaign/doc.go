// Package campaign holds campaigns (专项整治): a named drive over
// categories, an area (a polygon or grid codes) and a period, with a target
// (close a share of its cases on time, or inspect a list of sites), and the
// inspection list's parsing (GeoJSON or CSV, answered row by row). Progress
// is never stored: it is computed from the cases (postgres, campaign_covers).
package campaign
