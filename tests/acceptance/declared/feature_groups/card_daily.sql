-- Day D's row summarises day D-1 (it becomes known at 00:00 of D); `source` is raw.payments.
SELECT
  card_id,
  date_trunc('DAY', paid_at) + INTERVAL 1 DAY AS feature_time,
  count(*) AS payments_1d,
  sum(amount) AS spend_1d,
  avg(amount) AS avg_amount_1d
FROM source
GROUP BY card_id, date_trunc('DAY', paid_at)
