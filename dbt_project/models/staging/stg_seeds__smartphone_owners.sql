-- The smartphone-owner estimate per province and the propensity line it was split by
-- (seeds/ref_smartphone_owners.csv; seeds/README.md states the method).
with

smartphones as (
    select * from {{ ref('ref_smartphone_owners') }}
),

renamed as (
    select
        province_code,
        smartphone_owners_est,
        propensity_intercept,
        propensity_slope,
        vintage as smartphone_owners_vintage,
    from smartphones
)

select * from renamed
