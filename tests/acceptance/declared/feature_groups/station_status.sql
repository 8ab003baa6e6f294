-- One row per status report; `source` is raw.station_status.
SELECT
  station_id,
  observed_at,
  bikes_available,
  docks_free,
  bikes_available / (bikes_available + docks_free) AS occupancy,
  kind AS station_kind
FROM source
WHERE bikes_available + docks_free > 0
