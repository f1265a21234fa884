-- One row per (2020 commune, 2025 commune) it went into (seeds/xwalk_communes_2020_2025.csv).
-- A commune split among n successors gives each an even share of its people (1/n, computed
-- here: the seed's decimal is rounded).
with

crosswalk as (
    select * from {{ ref('xwalk_communes_2020_2025') }}
),

renamed as (
    select
        commune_code_2020,
        commune_code_2025,
        province_code_2025,
        kind,
        n_successors,
        1.0 / n_successors as population_share,
    from crosswalk
)

select * from renamed
