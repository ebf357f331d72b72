-- What a backup records at dump time and a restore must reproduce (opscheck: W5, MM3, R1).
-- Run it right after pg_dump, on the same database:  psql -X -At -f backup_figures.sql
-- It prints one JSON object; put it in backup.json as "figures". opscheck runs this same file.
-- stock_prices is read once: per symbol its days, rows and the sum of one 64-bit hash per row, whose
-- total is an order-independent fingerprint (any changed, lost or added row changes it).
WITH per_symbol AS (
    SELECT symbol, min(date)::text AS first, max(date)::text AS last, count(*) AS rows,
           sum(hashtextextended(concat_ws('|', symbol, date, open, high, low, close, volume), 0)::numeric) AS hashes
    FROM stock_prices GROUP BY symbol
)
SELECT json_build_object(
    'row_counts', json_build_object(
        'stock_prices', (SELECT coalesce(sum(rows), 0) FROM per_symbol),
        'predictions', (SELECT count(*) FROM predictions),
        'batch_runs', (SELECT count(*) FROM batch_runs),
        'users', (SELECT count(*) FROM users),
        'sessions', (SELECT count(*) FROM sessions)),
    'symbols', (SELECT count(*) FROM per_symbol),
    'first_date', (SELECT min(first) FROM per_symbol),
    'last_date', (SELECT max(last) FROM per_symbol),
    'per_symbol', (SELECT coalesce(json_object_agg(symbol, json_build_array(first, last)), '{}'::json) FROM per_symbol),
    'fingerprint', (SELECT coalesce(sum(rows), 0) || ':' || mod(coalesce(sum(hashes), 0), 18446744073709551616)
                    FROM per_symbol),
    'indexes', (SELECT coalesce(json_agg(indexname ORDER BY indexname), '[]'::json)
                FROM pg_indexes WHERE schemaname = 'public')
) AS figures;
