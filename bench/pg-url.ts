/** The PostgreSQL database the benchmarks use (BENCH_PG), apart from the peers so suites without them can name it. */
export const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
