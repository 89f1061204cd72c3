/*
 * dev_rtc.c — the MC146818 real-time clock and CMOS RAM at 0x70 (index,
 * bit 7 = NMI disable) and 0x71 (data), interrupting on IRQ8.
 *
 * The chip's time is not kept as register bytes: it is the host's time of
 * day plus a whole-second offset the guest creates by writing the time
 * registers, converted to UTC civil time here (no libc time functions, so
 * no timezone). What the guest writes reads back as written while SET
 * holds updates and until the next update, which normalises it (an
 * out-of-range field carries into the next unit; the real chip would
 * count on from the invalid bytes). Register B selects BCD or binary and
 * 12- or 24-hour encoding; we re-encode on the fly where the real chip
 * would keep the old bytes until the next write.
 *
 * One timeline: the first access that needs the time reads both clocks and
 * keeps realtime - monotonic; from then on every access reads only the
 * monotonic clock, the one poll() is given. So the seconds the guest reads,
 * the update-in-progress window, and the periodic, update-ended and alarm
 * interrupts all agree with one another and with next_deadline().
 *
 * Register C's flags are computed lazily: each access that reads the clock,
 * and each poll(), first accounts for the periodic edges and second
 * boundaries passed since the previous one. IRQ8 follows IRQF and drops
 * when C is read, so each interrupt needs the guest's C read, as on the
 * real chip. Not modelled: the divider-chain control in register A (time
 * always runs), daylight-saving (B bit 0) and the square-wave output.
 */
#include <stdint.h>
#include "vmm/devices.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71
#define RTC_IRQ 8
#define RTC_NEVER UINT64_MAX
#define RTC_NS 1000000000ll
#define RTC_DAY 86400ll
#define RTC_UIP_NS 244000ll     /* UIP is set this long before each second */

enum {
	RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02, RTC_MIN_ALARM = 0x03,
	RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05, RTC_DOW = 0x06, RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0a, RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c, RTC_REG_D = 0x0d, RTC_CENTURY = 0x32,
};

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

struct rtc_tm {
	int64_t year;
	int month, day, hour, min, sec, dow;    /* dow: 0 = Sunday */
};

struct rtc_state {
	int64_t offset_s;       /* guest time - host time, whole seconds */
	uint64_t base_ns;       /* host realtime - monotonic (mod 2^64), once known */
	struct rtc_tm raw;      /* the fields as the guest wrote them */
	int64_t raw_at;         /* host second during which raw is what reads show */
	uint64_t ref_ns;        /* monotonic time C's flags are computed up to */
	uint8_t base_valid;
	uint8_t ref_valid;
	uint8_t raw_valid;
	uint8_t index;
	uint8_t nmi_disabled;   /* remembered; nothing here raises an NMI */
	uint8_t reg_a, reg_b, reg_c;
	uint8_t dow_adjust;     /* days added to the computed weekday (guest wrote it) */
	uint8_t irq_level;
	uint8_t ram[128];       /* alarms and the 114 bytes of CMOS RAM */
};

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12);
 * Howard Hinnant's days_from_civil. */
static int64_t rtc_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = vmm_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void rtc_civil_from_secs(int64_t secs, struct rtc_tm *tm)
{
	int64_t days = vmm_floor_div(secs, RTC_DAY), sod = secs - days * RTC_DAY;
	int64_t z = days + 719468, era = vmm_floor_div(z, 146097), doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	tm->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = yoe + era * 400 + (tm->month <= 2);
	tm->hour = (int)(sod / 3600);
	tm->min = (int)(sod / 60 % 60);
	tm->sec = (int)(sod % 60);
	tm->dow = (int)(days + 4 - vmm_floor_div(days + 4, 7) * 7);    /* 1970-01-01: Thursday */
}

/* Out-of-range fields (a guest may write anything) carry into the next
 * larger unit instead of being rejected. */
static int64_t rtc_secs_from_civil(const struct rtc_tm *tm)
{
	int64_t m0 = tm->month - 1, y = tm->year + vmm_floor_div(m0, 12);
	int64_t days;

	m0 -= vmm_floor_div(m0, 12) * 12;
	days = rtc_days_from_civil(y, (int)m0 + 1, 1) + tm->day - 1;
	return days * RTC_DAY + tm->hour * 3600ll + tm->min * 60ll + tm->sec;
}

static uint8_t rtc_encode(const struct rtc_state *s, int64_t v)
{
	if (s->reg_b & RTC_B_BINARY)
		return (uint8_t)v;
	v = (v % 100 + 100) % 100;      /* years before 0 are possible, if silly */
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static int rtc_decode(const struct rtc_state *s, uint8_t v)
{
	if (s->reg_b & RTC_B_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t rtc_encode_hour(const struct rtc_state *s, int h)
{
	int h12;

	if (s->reg_b & RTC_B_24H)
		return rtc_encode(s, h);
	h12 = h % 12 == 0 ? 12 : h % 12;
	return (uint8_t)(rtc_encode(s, h12) | (h >= 12 ? 0x80 : 0));
}

static int rtc_decode_hour(const struct rtc_state *s, uint8_t v)
{
	int h;

	if (s->reg_b & RTC_B_24H)
		return rtc_decode(s, v);
	h = rtc_decode(s, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

/* The clock, read at most once per access (plus the realtime read on the
 * very first access that needs the time of day). */
static uint64_t rtc_now(struct rtc_state *s, struct vmm_dev_clock *clk)
{
	if (clk->have)
		return clk->ns;
	vmm_dev_clock_now(clk);
	if (!s->base_valid) {
		/* Unsigned wrap-around is intended: mono + base_ns gives back
		 * the realtime value for any pair of 64-bit clocks. */
		s->base_ns = clk->bus->clock_ns(clk->bus->ctx, VMM_CLOCK_REALTIME) - clk->ns;
		s->base_valid = 1;
	}
	return clk->ns;
}

/* Host time of day (ns since the Unix epoch) at monotonic time mono. */
static uint64_t rtc_tod_ns(const struct rtc_state *s, uint64_t mono)
{
	return mono + s->base_ns;
}

static int64_t rtc_host_secs(const struct rtc_state *s, uint64_t mono)
{
	return (int64_t)(rtc_tod_ns(s, mono) / RTC_NS);
}

static int64_t rtc_running_secs(const struct rtc_state *s, uint64_t mono)
{
	return rtc_host_secs(s, mono) + s->offset_s;
}

/* Periodic rate select (register A bits 0-3) as a shift of the 32.768 kHz
 * time base; -1 when off. Rates 1 and 2 are 256 and 128 Hz. */
static int rtc_pf_shift(const struct rtc_state *s)
{
	unsigned rs = s->reg_a & 0x0f;

	if (rs == 0)
		return -1;
	return rs <= 2 ? (int)rs + 6 : (int)rs - 1;
}

static uint64_t rtc_pf_index(uint64_t mono, int shift)
{
	return vmm_ns_to_ticks(mono, 32768) >> shift;
}

static int rtc_alarm_field(const struct rtc_state *s, unsigned reg, int hour)
{
	uint8_t v = s->ram[reg];

	if ((v & 0xc0) == 0xc0)
		return -1;      /* "don't care": matches every value */
	return hour ? rtc_decode_hour(s, v) : rtc_decode(s, v);
}

/* The first guest second >= from whose time matches the alarm registers,
 * within the next day, or INT64_MAX. */
static int64_t rtc_alarm_next(const struct rtc_state *s, int64_t from)
{
	int as = rtc_alarm_field(s, RTC_SEC_ALARM, 0), am = rtc_alarm_field(s, RTC_MIN_ALARM, 0);
	int ah = rtc_alarm_field(s, RTC_HOUR_ALARM, 1);
	int64_t day = vmm_floor_div(from, RTC_DAY), sod = from - day * RTC_DAY;
	int64_t first = sod / 60, minute, start, cand;

	if (as > 59 || am > 59 || ah > 23)
		return INT64_MAX;
	for (int64_t i = 0; i <= 1440; i++) {
		minute = first + i;
		if (ah >= 0 && minute / 60 % 24 != ah)
			continue;
		if (am >= 0 && minute % 60 != am)
			continue;
		start = day * RTC_DAY + minute * 60;
		cand = as < 0 ? (start < from ? from : start) : start + as;
		if (cand >= from)
			return cand;
	}
	return INT64_MAX;
}

static void rtc_update_irq(struct rtc_state *s, const struct vmm_bus *bus)
{
	uint8_t on = (s->reg_c & RTC_C_PF && s->reg_b & RTC_B_PIE) ||
		     (s->reg_c & RTC_C_AF && s->reg_b & RTC_B_AIE) ||
		     (s->reg_c & RTC_C_UF && s->reg_b & RTC_B_UIE);

	if (on)
		s->reg_c |= RTC_C_IRQF;
	else
		s->reg_c &= ~RTC_C_IRQF;
	if (on != s->irq_level) {
		s->irq_level = on;
		bus->set_irq(bus->ctx, RTC_IRQ, on);
	}
}

/* Set C's flags for what happened in (ref_ns, now]. */
static void rtc_advance(struct rtc_state *s, const struct vmm_bus *bus, uint64_t now)
{
	int shift = rtc_pf_shift(s);
	int64_t s0, s1;

	if (!s->ref_valid) {
		s->ref_ns = now;
		s->ref_valid = 1;
	}
	if (now > s->ref_ns) {
		if (shift >= 0 && rtc_pf_index(now, shift) != rtc_pf_index(s->ref_ns, shift))
			s->reg_c |= RTC_C_PF;
		if (s->base_valid && !(s->reg_b & RTC_B_SET)) {
			s0 = rtc_running_secs(s, s->ref_ns);
			s1 = rtc_running_secs(s, now);
			if (s1 > s0) {
				s->reg_c |= RTC_C_UF;
				if (rtc_alarm_next(s, s0 + 1) <= s1)
					s->reg_c |= RTC_C_AF;
			}
		}
		s->ref_ns = now;
	}
	rtc_update_irq(s, bus);
}

/* Read the clock and bring the flags up to date: every access that needs
 * the time starts here. */
static uint64_t rtc_touch(struct rtc_state *s, struct vmm_dev_clock *clk)
{
	uint64_t now = rtc_now(s, clk);

	rtc_advance(s, clk->bus, now);
	return now;
}

static int rtc_dow_of(const struct rtc_tm *tm)
{
	struct rtc_tm norm;

	rtc_civil_from_secs(rtc_secs_from_civil(tm), &norm);
	return norm.dow;
}

/*
 * The time the guest sees, as fields. Fields the guest wrote are shown as
 * written (even if invalid, like 31 February between the day and month
 * writes) while SET holds updates and until the next second's update;
 * that update normalises them, carrying out-of-range fields into the next
 * unit. offset_s always holds the normalised equivalent.
 */
static void rtc_get_fields(struct rtc_state *s, struct vmm_dev_clock *clk, struct rtc_tm *tm)
{
	int64_t host;

	if (!(s->reg_b & RTC_B_SET)) {
		host = rtc_host_secs(s, rtc_touch(s, clk));
		if (!s->raw_valid || host != s->raw_at) {
			s->raw_valid = 0;
			rtc_civil_from_secs(host + s->offset_s, tm);
			return;
		}
	}
	*tm = s->raw;
	tm->dow = rtc_dow_of(tm);
}

/* Make tm what reads show from now on, in this second or while SET. */
static void rtc_set_fields(struct rtc_state *s, const struct rtc_tm *tm, struct vmm_dev_clock *clk)
{
	s->raw = *tm;
	s->raw_valid = 1;
	if (s->reg_b & RTC_B_SET)
		return;
	s->raw_at = rtc_host_secs(s, rtc_now(s, clk));
	s->offset_s = rtc_secs_from_civil(tm) - s->raw_at;
}

static uint8_t rtc_read_time(struct rtc_state *s, unsigned reg, struct vmm_dev_clock *clk)
{
	struct rtc_tm tm;

	rtc_get_fields(s, clk, &tm);
	switch (reg) {
	case RTC_SEC:
		return rtc_encode(s, tm.sec);
	case RTC_MIN:
		return rtc_encode(s, tm.min);
	case RTC_HOUR:
		return rtc_encode_hour(s, tm.hour);
	case RTC_DOW:
		return rtc_encode(s, (tm.dow + s->dow_adjust) % 7 + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_encode(s, tm.day);
	case RTC_MONTH:
		return rtc_encode(s, tm.month);
	case RTC_YEAR:
		return rtc_encode(s, tm.year % 100);
	default:
		return rtc_encode(s, tm.year / 100);
	}
}

static void rtc_write_time(struct rtc_state *s, unsigned reg, uint8_t v, struct vmm_dev_clock *clk)
{
	struct rtc_tm tm;
	int dv;

	rtc_get_fields(s, clk, &tm);
	switch (reg) {
	case RTC_SEC:
		tm.sec = rtc_decode(s, v);
		break;
	case RTC_MIN:
		tm.min = rtc_decode(s, v);
		break;
	case RTC_HOUR:
		tm.hour = rtc_decode_hour(s, v);
		break;
	case RTC_DOW:
		/* The weekday is a separate counter on the chip; keep the
		 * difference so reads return what was written. */
		dv = rtc_decode(s, v);
		if (dv >= 1 && dv <= 7)
			s->dow_adjust = (uint8_t)((dv - 1 - tm.dow + 7) % 7);
		return;
	case RTC_DAY_OF_MONTH:
		tm.day = rtc_decode(s, v);
		break;
	case RTC_MONTH:
		tm.month = rtc_decode(s, v);
		break;
	case RTC_YEAR:
		tm.year = tm.year - tm.year % 100 + rtc_decode(s, v);
		break;
	default:
		tm.year = rtc_decode(s, v) * 100ll + tm.year % 100;
		break;
	}
	rtc_set_fields(s, &tm, clk);
}

static void rtc_write_b(struct rtc_state *s, uint8_t v, struct vmm_dev_clock *clk)
{
	uint8_t old = s->reg_b;
	struct rtc_tm tm;

	rtc_touch(s, clk);
	if ((v & RTC_B_SET) && !(old & RTC_B_SET)) {
		rtc_get_fields(s, clk, &tm);
		s->raw = tm;
		s->raw_valid = 1;
		/* Setting SET aborts updates and clears UIE (datasheet). */
		v &= ~RTC_B_UIE;
		s->reg_b = v;
	} else if (!(v & RTC_B_SET) && (old & RTC_B_SET)) {
		/* Resume from the fields as set, at the host's second phase. */
		s->reg_b = v;
		tm = s->raw;
		rtc_set_fields(s, &tm, clk);
	}
	s->reg_b = v;
	rtc_update_irq(s, clk->bus);
}

static uint8_t rtc_read_data(struct rtc_state *s, struct vmm_dev_clock *clk)
{
	uint8_t v;
	uint64_t sub;

	switch (s->index) {
	case RTC_SEC:
	case RTC_MIN:
	case RTC_HOUR:
	case RTC_DOW:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return rtc_read_time(s, s->index, clk);
	case RTC_REG_A:
		v = s->reg_a;
		sub = rtc_tod_ns(s, rtc_touch(s, clk)) % RTC_NS;
		if (!(s->reg_b & RTC_B_SET) && sub >= RTC_NS - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_B:
		return s->reg_b;
	case RTC_REG_C:
		rtc_touch(s, clk);
		v = s->reg_c;
		s->reg_c = 0;
		rtc_update_irq(s, clk->bus);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return s->ram[s->index];
	}
}

static void rtc_write_data(struct rtc_state *s, uint8_t v, struct vmm_dev_clock *clk)
{
	switch (s->index) {
	case RTC_SEC:
	case RTC_MIN:
	case RTC_HOUR:
	case RTC_DOW:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		rtc_write_time(s, s->index, v, clk);
		break;
	case RTC_REG_A:
		rtc_touch(s, clk);
		s->reg_a = v & ~RTC_A_UIP;
		break;
	case RTC_REG_B:
		rtc_write_b(s, v, clk);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;          /* read-only */
	default:
		s->ram[s->index] = v;
		break;
	}
}

/* 8-bit ports: a 2- or 4-byte access acts on the low byte; the upper
 * bytes of a read are zero. The index port is write-only. */
static uint32_t rtc_pio_in(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size)
{
	struct rtc_state *s = state;
	struct vmm_dev_clock clk = { .bus = bus };

	if (port == RTC_PORT_DATA)
		return rtc_read_data(s, &clk);
	return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
}

static void rtc_pio_out(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size,
			uint32_t value)
{
	struct rtc_state *s = state;
	struct vmm_dev_clock clk = { .bus = bus };

	if (port == RTC_PORT_INDEX) {
		s->index = value & 0x7f;
		s->nmi_disabled = (value >> 7) & 1;
	} else if (port == RTC_PORT_DATA) {
		rtc_write_data(s, (uint8_t)value, &clk);
	}
}

/* Power-on state as a PC BIOS leaves it: 32.768 kHz time base with the
 * 1024 Hz periodic rate selected (A = 0x26), BCD, 24-hour, no interrupt
 * enabled, RAM valid; the time is the host's until the guest sets it. */
static void rtc_reset(void *state)
{
	struct rtc_state *s = state;

	*s = (struct rtc_state){
		.reg_a = 0x26,
		.reg_b = RTC_B_24H,
	};
}

static uint64_t rtc_clamp_ns(__int128 t)
{
	if (t < 0)
		return 0;
	return t >= (__int128)RTC_NEVER ? RTC_NEVER : (uint64_t)t;
}

/* The next monotonic time at which a flag whose interrupt is enabled gets
 * set. Nothing while IRQ8 is already high: the guest must read C first,
 * and that read catches up on the flags itself. */
static uint64_t rtc_next_deadline(const void *state)
{
	const struct rtc_state *s = state;
	uint64_t best = RTC_NEVER, t;
	int shift = rtc_pf_shift(s);
	int64_t next_s;
	uint64_t tod_ref;

	if (s->irq_level || !s->ref_valid)
		return RTC_NEVER;
	if ((s->reg_b & RTC_B_PIE) && shift >= 0) {
		t = vmm_ticks_to_ns((rtc_pf_index(s->ref_ns, shift) + 1) << shift, 32768);
		best = t < best ? t : best;
	}
	if (!s->base_valid || (s->reg_b & RTC_B_SET))
		return best;
	/* Second boundaries are in time-of-day terms; the distance from the
	 * reference time converts them to monotonic time. */
	tod_ref = rtc_tod_ns(s, s->ref_ns);
	if (s->reg_b & RTC_B_UIE) {
		t = rtc_clamp_ns((__int128)s->ref_ns +
				 ((__int128)rtc_host_secs(s, s->ref_ns) + 1) * RTC_NS - tod_ref);
		best = t < best ? t : best;
	}
	if (s->reg_b & RTC_B_AIE) {
		next_s = rtc_alarm_next(s, rtc_running_secs(s, s->ref_ns) + 1);
		if (next_s != INT64_MAX) {
			t = rtc_clamp_ns((__int128)s->ref_ns +
					 ((__int128)next_s - s->offset_s) * RTC_NS - tod_ref);
			best = t < best ? t : best;
		}
	}
	return best;
}

static void rtc_poll(void *state, const struct vmm_bus *bus, uint64_t now_ns)
{
	rtc_advance(state, bus, now_ns);
}

VMM_PIO_ACCESS(rtc_access, rtc_pio_in, rtc_pio_out)

const struct vmm_device vmm_dev_rtc = {
	.name = "rtc",
	.ranges = {
		{ VMM_SPACE_PIO, RTC_PORT_INDEX, 2 },
	},
	.state_size = sizeof(struct rtc_state),
	.reset = rtc_reset,
	.access = rtc_access,
	.next_deadline = rtc_next_deadline,
	.poll = rtc_poll,
};
