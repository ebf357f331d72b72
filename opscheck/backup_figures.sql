-- What a backup records at dump time and a restore must reproduce (opscheck: W5, MM3, R1).
-- Run it right after pg_dump, on the same database:  psql -X -At -f backup_figures.sql
-- It prints one JSON object; put it in backup.json as "figures". opscheck runs this same file.
SELECT json_build_object(
    'row_counts', json_build_object(
        'stock_prices', (SELECT count(*) FROM stock_prices),
        'predictions', (SELECT count(*) FROM predictions),
        'batch_runs', (SELECT count(*) FROM batch_runs),
        'users', (SELECT count(*) FROM users),
        'sessions', (SELECT count(*) FROM sessions)),
    'symbols', (SELECT count(DISTINCT symbol) FROM stock_prices),
    'first_date', (SELECT min(date)::text FROM stock_prices),
    'last_date', (SELECT max(date)::text FROM stock_prices),
    'per_symbol', (SELECT coalesce(json_object_agg(symbol, json_build_array(first, last)), '{}'::json)
                   FROM (SELECT symbol, min(date)::text AS first, max(date)::text AS last
                         FROM stock_prices GROUP BY symbol) AS s),
    -- an order-independent sum of one 64-bit hash per row: any changed, lost or added row changes it
    'fingerprint', (SELECT count(*) || ':' || mod(coalesce(sum(hashtextextended(concat_ws('|', symbol, date, open,
                           high, low, close, volume), 0)::numeric), 0), 18446744073709551616)
                    FROM stock_prices),
    'indexes', (SELECT coalesce(json_agg(indexname ORDER BY indexname), '[]'::json)
                FROM pg_indexes WHERE schemaname = 'public')
) AS figures;
