// A log-linear latency histogram (HDR style): 64 sub-buckets per power of
// two, so any recorded value is known to within 1/64 (1.6 %) whatever the
// number of samples, in a fixed 30 KiB.
#pragma once

#include <array>
#include <cstdint>

namespace bench {

class Histogram
{
public:
    void record(int64_t ns)
    {
        const uint64_t v = ns < 0 ? 0 : uint64_t(ns);
        ++m_buckets[index(v)];
        ++m_count;
        m_sum += v;
        if (v > m_max)
            m_max = v;
        if (m_count == 1 || v < m_min)
            m_min = v;
    }

    uint64_t count() const { return m_count; }
    uint64_t maxNs() const { return m_max; }
    uint64_t minNs() const { return m_count ? m_min : 0; }
    double meanNs() const { return m_count ? double(m_sum) / double(m_count) : 0.0; }

    // The value at quantile q (0..1): the middle of the bucket holding the
    // sample of that rank, clamped to the exact extremes.
    uint64_t quantileNs(double q) const
    {
        if (m_count == 0)
            return 0;
        uint64_t rank = uint64_t(q * double(m_count) + 0.999999);
        if (rank < 1)
            rank = 1;
        if (rank > m_count)
            rank = m_count;
        uint64_t seen = 0;
        for (int i = 0; i < Buckets; ++i) {
            seen += m_buckets[i];
            if (seen >= rank) {
                const uint64_t mid = lowerBound(i) + (lowerBound(i + 1) - lowerBound(i)) / 2;
                return mid < m_min ? m_min : mid > m_max ? m_max : mid;
            }
        }
        return m_max;
    }

    static constexpr int SubBits = 6;
    static constexpr int Sub = 1 << SubBits;
    static constexpr int Buckets = (64 - SubBits + 1) * Sub;

    static int index(uint64_t v)
    {
        if (v < uint64_t(Sub))
            return int(v);
        const int msb = 63 - __builtin_clzll(v);
        const int shift = msb - SubBits;
        return (shift + 1) * Sub + int((v >> shift) - Sub);
    }
    static uint64_t lowerBound(int i)
    {
        if (i < Sub)
            return uint64_t(i);
        const int shift = i / Sub - 1;
        return (uint64_t(Sub) + uint64_t(i % Sub)) << shift;
    }

private:
    std::array<uint64_t, Buckets> m_buckets {};
    uint64_t m_count = 0;
    uint64_t m_sum = 0;
    uint64_t m_max = 0;
    uint64_t m_min = 0;
};

} // namespace bench
