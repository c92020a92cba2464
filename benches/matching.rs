//! Measures `NameIndex::build`, `decide` and `similar_names` on a synthetic
//! 10,000-entry French directory (100 first names × 100 last names, every pair
//! once), `similar_names` also on its first 2,000 entries.

use std::hint::black_box;

use attendant::asr::{Hypothesis, Recognition};
use attendant::directory::{Directory, DirectoryVersion, Entry, EntryId, Language, Store, StoreId, TransferTarget};
use attendant::matching::{NameIndex, Thresholds, decide, similar_names};
use criterion::{Criterion, criterion_group, criterion_main};

const FIRST_NAMES: [&str; 100] = [
    "Sophie", "Paul", "Hervé", "Jean", "Sorin", "Martine", "Philippe", "Marc", "Claire", "Luc", "Anne", "Pierre",
    "Marie", "Michel", "Nathalie", "Alain", "Isabelle", "Patrick", "Sylvie", "Nicolas", "Catherine", "Christophe",
    "Françoise", "Laurent", "Valérie", "Stéphane", "Sandrine", "Frédéric", "Véronique", "Éric", "Christine",
    "David", "Céline", "Olivier", "Aurélie", "Thierry", "Julie", "Sébastien", "Émilie", "Julien", "Camille",
    "Thomas", "Léa", "Antoine", "Manon", "Alexandre", "Chloé", "Maxime", "Inès", "Hugo", "Sarah", "Lucas",
    "Emma", "Louis", "Jade", "Gabriel", "Louise", "Arthur", "Alice", "Raphaël", "Lina", "Jules", "Rose",
    "Adam", "Anna", "Nathan", "Mila", "Ethan", "Zoé", "Paul-Henri", "Agathe", "Baptiste", "Margaux", "Victor",
    "Juliette", "Théo", "Pauline", "Romain", "Élodie", "Guillaume", "Mathilde", "Benoît", "Hélène", "Damien",
    "Lucie", "Fabrice", "Agnès", "Gérard", "Monique", "Bernard", "Josiane", "Yves", "Odile", "René", "Gisèle",
    "Serge", "Mireille", "Didier", "Brigitte", "Gilles",
];

const LAST_NAMES: [&str; 100] = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
    "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand",
    "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin",
    "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
    "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche",
    "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Perez", "Marchand", "Dufour", "Blanchard", "Marie",
    "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre", "Renard",
    "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine",
    "Picard", "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre", "Prodhomme",
];

fn synthetic_directory() -> Directory {
    let mut entries = Vec::with_capacity(FIRST_NAMES.len() * LAST_NAMES.len());
    for (i, last) in LAST_NAMES.iter().enumerate() {
        for (j, first) in FIRST_NAMES.iter().enumerate() {
            let id = (i * FIRST_NAMES.len() + j) as i64;
            entries.push(Entry {
                id: EntryId(id),
                display_name: format!("{first} {last}"),
                aliases: if j == 0 { vec![format!("le bureau de {first}")] } else { Vec::new() },
                department: (j % 10 == 0).then(|| format!("rayon {}", i % 20)),
                extension: Some(format!("{}", 1000 + id)),
                target: TransferTarget::Extension(format!("{}", 1000 + id)),
                fallback: None,
                enabled: true,
            });
        }
    }
    Directory {
        store: Store {
            id: StoreId(1),
            name: "Bench store".to_owned(),
            number: "0400000000".to_owned(),
            language: Language::Fr,
            operator: TransferTarget::Extension("9".to_owned()),
        },
        version: DirectoryVersion(1),
        entries,
        menu: Vec::new(),
    }
}

fn rec(alternatives: &[(&str, f32)]) -> Recognition {
    Recognition {
        alternatives: alternatives
            .iter()
            .map(|(text, confidence)| Hypothesis { text: (*text).to_owned(), confidence: *confidence })
            .collect(),
        in_grammar: None,
    }
}

fn bench(c: &mut Criterion) {
    let directory = synthetic_directory();
    let mut group = c.benchmark_group("build");
    group.sample_size(10);
    group.bench_function("10k entries", |b| b.iter(|| NameIndex::build(black_box(&directory))));
    group.finish();

    let index = NameIndex::build(&directory).expect("synthetic directory indexes");
    let thresholds = Thresholds::default();
    let cases = [
        ("exact", rec(&[("hervé leclerc", 0.9)])),
        ("carrier phrases", rec(&[("bonjour je voudrais parler à hervé leclerc s'il vous plaît", 0.9)])),
        ("phonetic", rec(&[("jean prodome", 0.9)])),
        ("fuzzy", rec(&[("sophie martinez", 0.9)])),
        ("namesakes", rec(&[("martin", 0.9)])),
        ("no match", rec(&[("jacques chirac", 0.9)])),
        (
            "3-best",
            rec(&[("hervé leclerc", 0.6), ("hervé leclercq", 0.55), ("pierre leclerc", 0.3)]),
        ),
    ];
    let mut group = c.benchmark_group("decide 10k");
    for (name, recognition) in &cases {
        group.bench_function(*name, |b| b.iter(|| decide(&index, black_box(recognition), &thresholds)));
    }
    group.finish();

    c.bench_function("keypad_search 10k '627'", |b| b.iter(|| index.keypad_search(black_box("627"))));

    // Every entry shares its first name with 99 others (not a sound-alike)
    // and its last name with 99 more; at most SOUND_ALIKES_PER_ENTRY are
    // looked for per entry, so work and output stay linear in the size.
    let mut group = c.benchmark_group("similar_names");
    group.sample_size(10);
    for size in [2_000usize, 10_000] {
        let mut part = directory.clone();
        part.entries.truncate(size);
        let pairs = similar_names(&part, Language::Fr, 1000).expect("synthetic directory indexes").total_pairs;
        eprintln!("similar_names: {size} entries, {pairs} pairs");
        group.bench_function(format!("{size} entries"), |b| b.iter(|| similar_names(black_box(&part), Language::Fr, 1000)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
