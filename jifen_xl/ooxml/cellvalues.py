"""Python values as worksheet cells: numbers, text (inline strings), booleans and dates as
Excel serial numbers (1900 or 1904 system), one column at a time (vectorised for numeric columns)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers

import numpy as np
import pandas as pd

from .markup import escape_text as _escape_text


_EPOCH_1900 = dt.datetime(1899, 12, 30)


_EPOCH_1904 = dt.datetime(1904, 1, 1)


def fmt_number(v: float | int) -> str | None:
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        return None
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


class CellMaker:
    """Turns one column's values into the XML after ``<c r="..."`` (or None for no cell)."""

    def __init__(self, prefix: str, date1904: bool):
        self.p = prefix
        self.epoch = _EPOCH_1904 if date1904 else _EPOCH_1900

    def column(self, series: pd.Series, style: str | None) -> list[str | None]:
        p = self.p
        s = f' s="{style}"' if style else ""
        num_open, num_close = f"{s}><{p}v>", f"</{p}v></{p}c>"
        str_open = f'{s} t="inlineStr"><{p}is><{p}t xml:space="preserve">'
        str_close = f"</{p}t></{p}is></{p}c>"
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            return self._numeric(series.to_numpy(), num_open, num_close)
        values = series.tolist()
        out: list[str | None] = []
        append = out.append
        for v in values:
            if v is None:
                append(None)
            elif isinstance(v, str):
                append(str_open + _escape_text(v) + str_close if v else None)
            elif isinstance(v, float):
                n = fmt_number(v)
                append(None if n is None else num_open + n + num_close)
            elif isinstance(v, (bool, np.bool_)):
                append(f'{s} t="b"><{p}v>{1 if v else 0}</{p}v></{p}c>')
            elif isinstance(v, int):
                append(num_open + str(v) + num_close)
            else:
                append(self._other(v, num_open, num_close, str_open, str_close))
        return out

    @staticmethod
    def _numeric(arr: np.ndarray, num_open: str, num_close: str) -> list[str | None]:
        """Vectorised path for plain numpy int/float columns (most of 月度台账)."""
        if arr.dtype.kind in "iu":
            return [num_open + t + num_close for t in arr.astype(str).tolist()]
        arr = arr.astype(np.float64, copy=False)
        out: list[str | None] = [None] * len(arr)
        finite = np.isfinite(arr)
        with np.errstate(invalid="ignore"):
            integral = finite & (np.abs(arr) < 1e15) & (arr == np.floor(arr))
        idx = np.flatnonzero(integral)
        for i, t in zip(idx.tolist(), arr[idx].astype(np.int64).astype(str).tolist()):
            out[i] = num_open + t + num_close
        idx = np.flatnonzero(finite & ~integral)
        for i, v in zip(idx.tolist(), arr[idx].tolist()):
            out[i] = num_open + repr(v) + num_close
        return out

    def _other(self, v, num_open, num_close, str_open, str_close) -> str | None:
        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, numbers.Integral):
            return num_open + str(int(v)) + num_close
        if isinstance(v, (numbers.Real, decimal.Decimal)):
            f = float(v)
            n = fmt_number(f)
            return None if n is None else num_open + n + num_close
        serial = self._serial(v)
        if serial is not None:
            n = fmt_number(serial)
            return None if n is None else num_open + n + num_close
        try:
            if pd.isna(v):
                return None
        except (TypeError, ValueError):
            pass
        text = str(v)
        return str_open + _escape_text(text) + str_close if text else None

    def _serial(self, v) -> float | None:
        """Excel serial number of a date/datetime/time/timedelta, else None."""
        if isinstance(v, pd.Timestamp):
            v = v.to_pydatetime()
        if isinstance(v, dt.datetime):
            if v.tzinfo is not None:
                v = v.replace(tzinfo=None)
            delta = v - self.epoch
        elif isinstance(v, dt.date):
            delta = dt.datetime(v.year, v.month, v.day) - self.epoch
        elif isinstance(v, dt.time):
            return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
        elif isinstance(v, (dt.timedelta, pd.Timedelta)):
            delta = pd.Timedelta(v).to_pytimedelta()
            return delta.total_seconds() / 86400
        else:
            return None
        serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
        return round(serial, 10)
