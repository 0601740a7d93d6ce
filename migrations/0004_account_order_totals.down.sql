DROP VIEW account_summaries;
DROP FUNCTION account_order_total(bigint);
