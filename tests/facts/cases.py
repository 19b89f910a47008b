"""Realistic messages and the facts a lawyer would read in them; ``now`` is Tue 20 Oct 2026 10:30
in Paris. Keys: adm [(kind, place)], priv [kind], role, dec [kinds expected among the decisions],
dates [(role, iso day, "HH:MM" or None)], mesure, cp, town, contract, recours, claim, courrier,
correction. Only the keys given are checked; each key is one expected fact.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

NOW = datetime(2026, 10, 20, 10, 30, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday

CASES: list[tuple[str, dict]] = [
    # --- from the issue text, verbatim ---
    ("datée du 8 octobre, reçue le 10",
     {"dates": [("signed", "2026-10-08", None), ("notified", "2026-10-10", None)]}),
    ("le panneau a été posé le 8 octobre, le permis est du 25 septembre",
     {"dates": [("display", "2026-10-08", None), ("signed", "2026-09-25", None)],
      "dec": ["permis_construire"]}),
    ("dimanche soir vers 21 h", {"dates": [("unspecified", "2026-10-18", "21:00")]}),
    ("hier vers 19 h", {"dates": [("unspecified", "2026-10-19", "19:00")]}),
    ("il y a 3 semaines", {"dates": [("unspecified", "2026-09-29", None)]}),
    ("je n'ai pas encore reçu de courrier", {"courrier": False}),
    ("pas de recours", {"recours": False}),
    ("non, la date c'est le 8 octobre",
     {"dates": [("unspecified", "2026-10-08", None)], "correction": True}),
    ("le code postal c'est 33800", {"cp": "33800", "correction": True}),
    ("C'est bien ça, merci.", {"correction": False}),
    # --- étrangers ---
    ("Bonjour, la préfecture de Seine-Saint-Denis m'a refusé mon titre de séjour avec une OQTF, "
     "reçue le 12 octobre", {"adm": [("prefecture", "Seine-Saint-Denis")],
                             "dec": ["oqtf", "refus_titre_sejour"],
                             "dates": [("notified", "2026-10-12", None)]}),
    ("mon mari a reçu une OQTF hier vers 19 h, il est au CRA de Vincennes",
     {"role": "proche", "dec": ["oqtf"], "dates": [("notified", "2026-10-19", "19:00")],
      "mesure": "retention"}),
    ("slt ma prefecture a refuser mon renouvelement de carte de sejour jai recu la lettre "
     "vendredi", {"adm": [("prefecture", None)], "dates": [("notified", "2026-10-16", None)]}),
    ("oqtf notifiée ce matin à 9h30 au commissariat, je dois pointer tous les jours",
     {"dec": ["oqtf"], "dates": [("notified", "2026-10-20", "09:30")],
      "mesure": "assignation", "adm": [("police", None)]}),
    ("Mon frère est en rétention depuis samedi, l'OQTF lui a été remise samedi à 14h",
     {"role": "proche", "mesure": "retention", "dec": ["oqtf"],
      "dates": [("unspecified", "2026-10-17", None), ("notified", "2026-10-17", "14:00")]}),
    ("obligation de quitter le territoire datée du 2 octobre, reçue le 6, pas de rétention ni "
     "assignation", {"dec": ["oqtf"], "dates": [("signed", "2026-10-02", None),
                                                ("notified", "2026-10-06", None)],
                     "mesure": "aucune"}),
    ("je suis assignée à résidence depuis 3 jours, l'OQTF date du 10/10/2026",
     {"mesure": "assignation", "dates": [("unspecified", "2026-10-17", None),
                                         ("signed", "2026-10-10", None)]}),
    ("ma femme est en prison et elle a eu une OQTF jeudi",
     {"role": "proche", "mesure": "detention", "dates": [("unspecified", "2026-10-15", None)]}),
    ("l'OFII m'a supprimé l'allocation, courrier reçu le 1er octobre",
     {"adm": [("ofii", None)], "dates": [("notified", "2026-10-01", None)]}),
    ("L'OFPRA a rejeté ma demande d'asile le 14/09", {"adm": [("ofpra", None)],
                                                      "dates": [("unspecified", "2026-09-14",
                                                                 None)]}),
    ("Refus de titre de séjour + OQTF sans délai, notifié avant-hier vers 17h, j'habite à Lille",
     {"dec": ["oqtf", "refus_titre_sejour"], "dates": [("notified", "2026-10-18", "17:00")],
      "town": "Lille"}),
    # --- urbanisme ---
    ("Mon voisin a obtenu un permis de construire, le panneau est affiché depuis le 8 octobre",
     {"role": "voisin", "dec": ["permis_construire"],
      "dates": [("display", "2026-10-08", None)]}),
    ("La mairie de Bordeaux a refusé mon permis de construire, décision reçue le 2 octobre",
     {"adm": [("commune", "Bordeaux")], "dec": ["refus_permis"],
      "dates": [("notified", "2026-10-02", None)], "town": "Bordeaux"}),
    ("un immeuble va etre construit juste derriere chez moi, panneau posé il y a 3 semaines",
     {"role": "voisin", "dates": [("display", "2026-09-29", None)]}),
    ("le permis est du 25 septembre mais le panneau a été posé le 8 octobre",
     {"dates": [("signed", "2026-09-25", None), ("display", "2026-10-08", None)]}),
    ("j'ai fait un recours gracieux le 15 octobre contre le permis de mon voisin",
     {"recours": True, "dates": [("recours_gracieux", "2026-10-15", None)]}),
    ("Notre association conteste le permis d'aménager affiché en mairie depuis le 1er septembre",
     {"role": "association", "dates": [("display", "2026-09-01", None)]}),
    ("refus de déclaration préalable pour ma véranda, le courrier de la ville de Nantes est daté "
     "du 30 septembre", {"adm": [("commune", "Nantes")], "dec": ["refus_permis"],
                         "dates": [("signed", "2026-09-30", None)]}),
    ("je suis voisin, pas encore de recours, le panneau est là depuis le 5/10",
     {"role": "voisin", "recours": False, "dates": [("display", "2026-10-05", None)]}),
    # --- élections ---
    ("Je conteste les résultats de l'élection municipale partielle de dimanche, proclamés "
     "dimanche soir vers 21 h", {"dec": ["resultats_election"],
                                 "dates": [("election", "2026-10-18", None),
                                           ("proclaimed", "2026-10-18", "21:00")]}),
    ("j'étais candidat sur la liste d'opposition à Saint-Ouen, le scrutin du 18 octobre a été "
     "truqué", {"role": "candidat", "dates": [("election", "2026-10-18", None)],
                "dec": ["resultats_election"]}),
    ("élections municipales à Pau dimanche dernier : des bulletins ont disparu",
     {"dec": ["resultats_election"], "dates": [("election", "2026-10-18", None)]}),
    ("Je suis conseiller municipal et le maire a refusé de mettre ma question à l'ordre du jour",
     {"role": "elu"}),
    # --- commande publique ---
    ("Notre société a reçu une lettre de rejet de la région Occitanie le 14 octobre, le contrat "
     "n'est pas encore signé", {"role": "entreprise_candidate", "dec": ["rejet_offre"],
                                 "adm": [("region", "Occitanie")],
                                 "dates": [("notified", "2026-10-14", None)],
                                 "contract": False}),
    ("on n'a pas été retenus sur l'appel d'offres du département du Gard, courrier reçu hier",
     {"role": "entreprise_candidate", "dec": ["rejet_offre"],
      "adm": [("departement", "Gard")], "dates": [("notified", "2026-10-19", None)]}),
    ("marché attribué à un concurrent, le contrat a déjà été signé le 12 octobre",
     {"dec": ["rejet_offre"], "contract": True, "dates": [("contract", "2026-10-12", None)]}),
    ("notre offre a été rejetée par la métropole de Lyon, lettre datée du 9 octobre reçue le 13",
     {"adm": [("metropole", "Lyon")], "dates": [("signed", "2026-10-09", None),
                                                ("notified", "2026-10-13", None)]}),
    # --- fonction publique ---
    ("Je suis fonctionnaire territoriale à la mairie de Montreuil et j'ai reçu un blâme le 5 "
     "octobre", {"role": "agent_public", "adm": [("commune", "Montreuil")],
                 "dec": ["sanction_disciplinaire"],
                 "dates": [("notified", "2026-10-05", None)]}),
    ("je suis prof contractuelle, le rectorat de Lille a décidé le non-renouvellement de mon "
     "contrat", {"role": "agent_public", "adm": [("rectorat", "Lille")],
                 "dec": ["licenciement"]}),
    ("infirmière au CHU de Nantes, révoquée par décision du 28/09/2026",
     {"adm": [("hopital_public", "Nantes")], "dec": ["revocation"],
      "dates": [("signed", "2026-09-28", None)]}),
    ("ma boite m'a licencié la semaine dernière, c'est une entreprise privée",
     {"priv": ["employeur_prive"], "dec": ["licenciement"], "adm": []}),
    ("conseil de discipline prévu lundi prochain à 14h, je suis agent de la ville",
     {"role": "agent_public", "dates": [("hearing", "2026-10-26", "14:00")]}),
    ("Suspendue de mes fonctions par l'hôpital public de Créteil, j'ai fait un recours "
     "hiérarchique le 3 octobre", {"adm": [("hopital_public", "Créteil")], "recours": True,
                                   "dates": [("recours_gracieux", "2026-10-03", None)]}),
    ("je suis policier et ma mutation d'office m'a été notifiée il y a 10 jours",
     {"role": "agent_public", "dates": [("notified", "2026-10-10", None)]}),
    # --- responsabilité ---
    ("je suis tombée dans un nid de poule de la métropole de Lyon il y a 3 semaines, pas encore "
     "fait de demande", {"adm": [("metropole", "Lyon")], "dec": ["dommage_travaux_publics"],
                         "dates": [("damage", "2026-09-29", None)], "claim": False}),
    ("Ma voiture a été abîmée par les travaux de la ville de Toulouse le 2 septembre, j'ai "
     "envoyé une demande d'indemnisation le 20 septembre",
     {"adm": [("commune", "Toulouse")], "dates": [("damage", "2026-09-02", None),
                                                  ("claim", "2026-09-20", None)],
      "claim": True}),
    ("ma mère est décédée au CHU de Rouen en mars, on n'a rien demandé encore",
     {"role": "proche", "adm": [("hopital_public", "Rouen")], "claim": False}),
    ("inondation de ma cave à cause d'une canalisation de la commune le 12 septembre 2026",
     {"adm": [("commune", None)], "dates": [("damage", "2026-09-12", None)]}),
    ("mon fils a été blessé dans la cour de l'école hier matin",
     {"role": "proche", "dates": [("damage", "2026-10-19", None)]}),
    # --- police administrative ---
    ("le préfet du Nord a pris un arrêté de fermeture de mon bar qui prend effet jeudi, "
     "je fais comment", {"adm": [("prefecture", "Nord")], "dec": ["fermeture_administrative"],
                         "role": "entreprise", "dates": [("effect", "2026-10-22", None)]}),
    ("Fermeture administrative de mon restaurant pour 15 jours à compter du 23 octobre suite à "
     "une bagarre", {"dec": ["fermeture_administrative"], "role": "entreprise",
                     "dates": [("effect", "2026-10-23", None)]}),
    ("la préfecture a interdit notre manifestation prévue samedi",
     {"dec": ["interdiction_manifestation"], "dates": [("effect", "2026-10-24", None)]}),
    ("suspension de mon permis de conduire par le préfet, reçue le 16/10",
     {"dec": ["suspension_permis_conduire"], "dates": [("notified", "2026-10-16", None)]}),
    # --- fiscalité ---
    ("j'ai reçu mon avis de taxe foncière le 15 septembre et le montant a doublé",
     {"dec": ["avis_imposition"], "dates": [("notified", "2026-09-15", None)]}),
    ("redressement fiscal des impôts, proposition de rectification reçue il y a 2 jours",
     {"dec": ["redressement_fiscal"], "adm": [("etat", None)],
      "dates": [("notified", "2026-10-18", None)]}),
    ("Réclamation faite au centre des finances publiques le 1er octobre pour la taxe "
     "d'habitation, pas de réponse", {"claim": True, "dates": [("claim", "2026-10-01", None)]}),
    # --- environnement, collectivités ---
    ("un projet d'éoliennes autorisé par arrêté préfectoral publié le 1er octobre, je suis "
     "riverain", {"dec": ["autorisation_environnementale"], "role": "voisin",
                  "dates": [("published", "2026-10-01", None)]}),
    ("La communauté de communes du Pays Basque a supprimé notre subvention, délibération du "
     "29 septembre", {"adm": [("intercommunalite", "Pays Basque")],
                      "dates": [("signed", "2026-09-29", None)]}),
    ("le conseil départemental de la Gironde refuse l'APA de mon père",
     {"adm": [("departement", "Gironde")], "role": "proche"}),
    ("la CAF me demande de rembourser 3000 euros, courrier du 2 octobre",
     {"adm": [("caf", None)], "dates": [("signed", "2026-10-02", None)]}),
    ("France Travail m'a radié le 5 octobre", {"adm": [("france_travail", None)],
                                               "dates": [("unspecified", "2026-10-05", None)]}),
    ("l'université de Strasbourg a refusé mon inscription en master",
     {"adm": [("universite", "Strasbourg")]}),
    ("la SNCF Réseau a abîmé mon mur pendant des travaux le 3 août",
     {"adm": [("sncf_reseau", None)], "dates": [("damage", "2026-08-03", None)]}),
    ("le ministère de l'Intérieur ne répond pas à ma demande de naturalisation",
     {"adm": [("ministere", "Intérieur")]}),
    ("l'URSSAF m'a envoyé une mise en demeure", {"adm": [("urssaf", None)]}),
    ("la gendarmerie a saisi mon chien", {"adm": [("gendarmerie", None)]}),
    # --- places, postcodes ---
    ("j'habite à Villeneuve-sur-Lot, 47300", {"cp": "47300", "town": "Villeneuve-sur-Lot"}),
    ("code postal 75011", {"cp": "75011"}),
    ("je vis à Marseille", {"town": "Marseille"}),
    ("cp 97400 la réunion", {"cp": "97400"}),
    # --- out of scope: private counterparts ---
    ("mon propriétaire refuse de me rendre ma caution", {"priv": ["bailleur"], "adm": []}),
    ("mon assurance ne veut pas rembourser le dégât des eaux",
     {"priv": ["assurance"], "adm": []}),
    ("mon ex-mari ne paie plus la pension alimentaire", {"priv": ["famille"], "adm": []}),
    ("la banque m'a refusé un crédit", {"priv": ["banque"], "adm": []}),
    ("mon voisin fait du bruit toute la nuit", {"priv": ["voisin"], "adm": []}),
    ("j'ai été licencié par mon patron sans préavis", {"priv": ["employeur_prive"],
                                                       "dec": ["licenciement"], "adm": []}),
    ("problème de succession avec mon frère", {"priv": ["famille"], "adm": []}),
    # --- negations and yes/no facts ---
    ("je n'ai fait aucun recours", {"recours": False}),
    ("j'ai écrit au maire pour contester le 4 octobre",
     {"recours": True, "dates": [("recours_gracieux", "2026-10-04", None)]}),
    ("le contrat n'est toujours pas signé", {"contract": False}),
    ("le marché a été signé", {"contract": True}),
    ("je ne suis ni retenu ni assigné", {"mesure": "aucune"}),
    ("pas de courrier pour l'instant", {"courrier": False}),
    ("j'ai bien reçu la décision", {"courrier": True}),
    # --- formal ---
    ("Madame, Monsieur, par un arrêté en date du 3 septembre 2026, notifié le 7 septembre, le "
     "maire de Arles a prononcé ma révocation.",
     {"dates": [("signed", "2026-09-03", None), ("notified", "2026-09-07", None)],
      "dec": ["revocation"], "adm": [("commune", "Arles")]}),
    ("Je me permets de vous contacter au sujet d'une décision de la préfecture de police du "
     "1er octobre 2026 refusant le renouvellement de mon titre de séjour.",
     {"dec": ["refus_titre_sejour"], "dates": [("signed", "2026-10-01", None)]}),
    # --- more relative dates ---
    ("reçu le 25", {"dates": [("notified", "2026-09-25", None)]}),
    ("l'audience est demain à 9h", {"dates": [("hearing", "2026-10-21", "09:00")]}),
    ("la décision prend effet lundi", {"dates": [("effect", "2026-10-26", None)]}),
    ("on me l'a remise lundi", {"dates": [("notified", "2026-10-19", None)]}),
    ("reçue aujourd'hui à midi", {"dates": [("notified", "2026-10-20", "12:00")]}),
    ("en fait c'est le 9 octobre", {"dates": [("unspecified", "2026-10-09", None)],
                                    "correction": True}),
    # The held-back set (tests/scenarios/heldback/): quantities, roles in everyday words, a
    # decision named after the fact, a weekday that fixes the year, « avant jeudi ».
    ("un arrêté autorise un élevage de 40 000 poulets à Plouvorn", {"cp": None}),
    ("riverain, on habite à 300 m", {"role": "voisin"}),
    ("je suis trésorière de l'asso qui organise", {"role": "association"}),
    ("la CAF me réclame 2 400 € de trop-perçu de RSA", {"dec": ["indu_prestation"], "cp": None}),
    ("on a déclaré une manif pour jeudi 22 octobre et le préfet vient de l'interdire",
     {"dec": ["interdiction_manifestation"], "dates": [("effect", "2026-10-22", None)]}),
    ("l'audience est fixée au mardi 5 janvier", {"dates": [("hearing", "2027-01-05", None)]}),
    ("On peut faire quelque chose avant jeudi ?",
     {"dates": [("unspecified", "2026-10-22", None)]}),
    # The second held-back set (issue #12, heldback2), in other words: a measure on an animal
    # applies on a coming day, the owner is the person concerned, a distance is no town, a
    # département's whole name, a loss is a damage.
    ("le maire veut faire abattre mes trois moutons, arrêté reçu lundi, ils viennent les chercher "
     "jeudi 29 octobre", {"dec": ["mesure_animal"], "dates": [("notified", "2026-10-19", None),
                                                           ("effect", "2026-10-29", None)]}),
    ("la préfète a ordonné le placement de ma chienne en fourrière samedi 24 octobre",
     {"dec": ["mesure_animal"], "dates": [("effect", "2026-10-24", None)]}),
    ("je suis le propriétaire de l'animal", {"role": "particulier"}),
    ("je suis propriétaire, ma locataire ne paie plus depuis 4 mois", {"priv": ["bailleur"]}),
    ("le département refuse la prise en charge de la cantine, on vit à moins de 2 km de l'école",
     {"town": None, "adm": [("departement", None)]}),
    ("j'habite à peine à 500 m du collège", {"town": None}),
    ("la préfecture de loire atlantique m'a convoqué", {"adm": [("prefecture",
                                                                 "loire atlantique")]}),
    ("le 2 octobre, l'infirmière a égaré son dentier", {"dates": [("damage", "2026-10-02",
                                                                   None)]}),
    # A date that ends its sentence takes no cue from the next one.
    ("Ils reviennent le prendre jeudi 22 octobre. J'ai eu le courrier lundi.",
     {"dates": [("effect", "2026-10-22", None), ("notified", "2026-10-19", None)]}),
    ("le maire a décidé de saisir nos deux chevaux", {"dec": ["mesure_animal"]}),
    ("j'étais sur la liste d'opposition, on a perdu de 12 voix", {"role": "candidat"}),
    ("le préfet m'a suspendu mon permis de conduire pour 4 mois",
     {"dec": ["suspension_permis_conduire"]}),
    ("la métropole m'a retiré ma carte de stationnement résident", {"dec": ["retrait"]}),
    ("mon voisin construit une extension, le panneau est là depuis le 5 octobre",
     {"role": "voisin", "dates": [("display", "2026-10-05", None)]}),
    ("le maire de notre village (Saint-Jory) a refusé", {"adm": [("commune", None)]}),
    ("un arrêté préfectoral autorise une porcherie tout près de chez nous, mis en ligne le 2 "
     "octobre", {"role": "voisin", "dec": ["autorisation_environnementale"],
                 "dates": [("published", "2026-10-02", None)]}),
    ("l'interdiction est en vigueur depuis samedi", {"dates": [("effect", "2026-10-17", None)]}),
    # A rejected claim and an unanswered request are decisions to challenge too.
    ("ma réclamation pour la taxe d'habitation a finalement été rejetée",
     {"dec": ["rejet_reclamation"]}),
    ("j'ai demandé un logement adapté il y a 5 mois, l'office HLM ne m'a jamais répondu",
     {"dec": ["silence"]}),
    # An hour of notification with no day next to it: the day named before it.
    ("il a été interpellé hier à 7h, l'OQTF lui a été notifiée à 11h au commissariat",
     {"dates": [("unspecified", "2026-10-19", "07:00"), ("notified", "2026-10-19", "11:00")]}),
    # Where an order was displayed is no adverse party; a works contract is no damage; the
    # results' proclamation is not the election day, and one day said twice is one date.
    ("le préfet a autorisé la carrière, arrêté affiché en mairie de Cléder le 5 octobre",
     {"adm": [("prefecture", None)], "dates": [("display", "2026-10-05", None)]}),
    ("notre offre pour le marché de travaux de voirie de la métropole n'a pas été retenue",
     {"dec": ["rejet_offre"]}),
    ("le vote c'était dimanche 18 octobre, résultats proclamés lundi matin le 19",
     {"dates": [("election", "2026-10-18", None), ("proclaimed", "2026-10-19", None)]}),
    ("l'arrêté nous est parvenu le 12 octobre", {"dates": [("notified", "2026-10-12", None)]}),
    ("le 2 octobre, les agents ont perdu son fauteuil roulant",
     {"dates": [("damage", "2026-10-02", None)]}),
]
