//! Name lists for the demo establishment: common French first names and surnames, with the
//! accents, hyphens and particles real directories contain.

pub const GIRLS: &[&str] = &[
    "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Léa", "Rose", "Anna", "Mila", "Inès",
    "Ambre", "Julia", "Mia", "Léna", "Manon", "Juliette", "Lou", "Zoé", "Camille", "Agathe",
    "Jeanne", "Lucie", "Éva", "Nina", "Sarah", "Romane", "Iris", "Adèle", "Louna", "Margaux",
    "Clémence", "Maëlys", "Héloïse", "Yasmine", "Aïcha", "Fatoumata", "Maya", "Salomé", "Noémie",
    "Anaïs", "Capucine", "Lise", "Océane", "Thaïs", "Victoire", "Élise", "Apolline",
];

pub const BOYS: &[&str] = &[
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Liam", "Gabin", "Sacha", "Paul", "Nathan", "Aaron", "Mohamed", "Ethan", "Tom",
    "Éden", "Léon", "Noé", "Tiago", "Théo", "Isaac", "Marius", "Victor", "Martin", "Nolan",
    "Mathis", "Timéo", "Amir", "Axel", "Enzo", "Youssef", "Ibrahim", "Baptiste", "Clément",
    "Antoine", "Maxime", "Quentin", "Rémi", "Bastien", "Côme", "Joachim", "Élie", "Loïc",
];

pub const ADULT_WOMEN: &[&str] = &[
    "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Valérie", "Stéphanie", "Céline",
    "Aurélie", "Émilie", "Julie", "Caroline", "Karine", "Delphine", "Virginie", "Sophie",
    "Hélène", "Laurence", "Nadia", "Samira", "Christelle", "Géraldine", "Myriam", "Fanny",
];

pub const ADULT_MEN: &[&str] = &[
    "Philippe", "Christophe", "Stéphane", "Frédéric", "Laurent", "Nicolas", "Sébastien",
    "Olivier", "Jérôme", "David", "Éric", "Thierry", "Pascal", "Franck", "Vincent", "Karim",
    "Mehdi", "Julien", "Guillaume", "Cédric", "Arnaud", "Benoît", "Grégory", "François",
];

pub const SURNAMES: &[&str] = &[
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Müller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval",
    "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun",
    "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal",
    "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix",
    "Olivier", "Philippe", "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland",
    "Leclercq", "Guillaume", "Lecomte", "N'Diaye", "Diallo", "Traoré", "Nguyen", "Benali",
    "Haddad", "Da Silva", "Pereira", "De Oliveira", "Le Goff", "Le Gall", "de La Fontaine",
    "Cohen", "Kaya", "Yilmaz", "Mbappé", "Hoarau", "Zidane", "Ben Ahmed", "Saint-Martin",
];
