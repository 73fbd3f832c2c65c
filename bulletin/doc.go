// Package bulletin makes the platform's rhythm into records: daily, weekly
// and monthly bulletins (日通报、周调度、月总结) for the district, a street or
// a unit. A bulletin prints the indicators of /v1/stats (cases.StatsStore:
// never computed twice) for its period and the one before, ranks its scope
// among its peers (排名), lists the top hotspots and whether last period's
// cooled, overdue cases by unit, late project milestones and campaign
// progress. Once generated it is stored as it is and never changes; a
// correction is the next revision. The Scheduler generates them at a set
// time of day in the district's time zone, in the one process holding a
// lock (a PostgreSQL advisory lock), and catches up after downtime.
package bulletin
