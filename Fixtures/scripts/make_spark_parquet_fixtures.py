#!/usr/bin/env python3
"""Parquet files written by Apache Spark (parquet-mr, a different writer from pyarrow's), for `encode --parquet`.

    python3 Fixtures/scripts/make_spark_parquet_fixtures.py    # writes Fixtures/parquet-spark/; needs pyspark and Java 17

2,000 rows (id long, text string with a null every 13th row, score double) written by pyspark in local mode with
snappy, gzip and zstd, one file each; texts.txt.zst holds the non-null texts, one per line, which
`encode --parquet text --bad-records skip` must tokenize exactly as `encode --lines` does these lines.
"""
import glob, pathlib, shutil, tempfile
import zstandard
from pyspark.sql import SparkSession

OUT = pathlib.Path(__file__).resolve().parents[2] / "Fixtures" / "parquet-spark"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    spark = SparkSession.builder.master("local[1]").appName("qwenkit-fixtures").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    rows = [(k, None if k % 13 == 4 else ("text %d 你好 é " % k) * (k % 7 + 1), k / 4) for k in range(2000)]
    frame = spark.createDataFrame(rows, "id long, text string, score double")
    with tempfile.TemporaryDirectory() as work:
        for codec in ["snappy", "gzip", "zstd"]:
            frame.coalesce(1).write.mode("overwrite").option("compression", codec).parquet(f"{work}/{codec}")
            shutil.copy(glob.glob(f"{work}/{codec}/part-*.parquet")[0], OUT / f"{codec}.parquet")
    spark.stop()
    texts = "".join(t + "\n" for _, t, _ in rows if t is not None).encode()
    (OUT / "texts.txt.zst").write_bytes(zstandard.ZstdCompressor(level=19).compress(texts))


if __name__ == "__main__":
    main()
