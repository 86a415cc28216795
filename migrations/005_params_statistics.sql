-- where key=value on params: store/narrow.go asks the planner how many
-- memberships contain a value and, when few, reads their customers through
-- memberships_params first. With the default statistics (100) a value held
-- by 0.3 % of memberships was estimated at 48 on one load and 9,657 on
-- another for 4,925 real ones; with 1,000 the estimates of such values come
-- within ~10 % (4,580), at ~2 s of ANALYZE per million memberships.
ALTER TABLE memberships ALTER COLUMN params SET STATISTICS 1000;
ANALYZE memberships (params);
